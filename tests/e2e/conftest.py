"""End-to-end fixtures: the trained example bot (once per run) and a shared running stack."""

from tests.support.processes import e2e_stack, trained_model  # noqa: F401 (fixtures)
