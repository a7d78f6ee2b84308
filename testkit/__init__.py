"""What the tests and the benchmarks share: real processes and servers (emulator, Rasa, the
action server, PostgreSQL, Redis), the emulator's control API, a web chat user, trackers for
policy checks, and validation against the official SunCo spec. Not part of the package."""
