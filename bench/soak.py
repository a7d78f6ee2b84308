#!/usr/bin/env python3
"""A soak: hours of handoffs in compressed time on two Rasa instances, with nothing lost.

    .venv/bin/python bench/soak.py [--users 200] [--concurrent 50] [--speed 30]

The scale-out deployment (`testkit.cluster`: two `rasa run` instances sharing PostgreSQL and
Redis, one action server, the emulator delivering webhooks round-robin) runs on the settable
clock (`rasa_zendesk.clock`, `ZENDESK_CLOCK_FILE`), which this script moves `--speed` times as
fast as real time. `--users` web chat users (socket.io, each on one instance, with a second
connection on the other that only sends) ask for a human, at most `--concurrent` handoffs open
at once, and each lives one of four lives, so every timer kind fires:
- `answered`: an agent answers at random delays, the user writes back, the agent solves it;
- `no_agent`: no agent comes: the agent timeout offers the choices, then the idle timeout ends it;
- `idle`: an agent answers once, then nobody writes: the idle timeout ends it;
- `long`: both sides keep writing: the maximum duration ends it.
SunCo is unkind from the start: the first `--users` message webhooks are delivered twice, as
many webhooks are reordered, and some `POST .../messages` are answered 429, or 500 after being
applied (the figures say how often each struck). When half of the users have their handoff, Rasa
instance 1 is killed (SIGKILL) and started again, after user turns are drained from it (Rasa
loses a turn it is in the middle of); the clock runs at real speed during the restart.

At the end: every user message reached its agent once (SunCo's conversation), every agent
message is in the user's conversation once (the tracker store) and reached the user's socket
at most once (and exactly once unless the socket's instance was down then), no handoff is
still running, each handoff ended as its life says (`LIFE_ENDS`: a message that failed to
postpone the idle timeout ends a *long* life early), and the surviving Rasa instance's memory
(RSS of its process tree) grew by less than 5% from the end of the warm-up (the first
`--warmup` handoffs) to the end. The figures go to `artifacts/bench/soak.{json,md}`; the exit
status is 1 if a check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasa_zendesk import clock  # noqa: E402
from rasa_zendesk.handoff import state  # noqa: E402
from testkit.clock_file import ClockFile  # noqa: E402
from testkit.cluster import Cluster, ClusterConfig, open_handoff  # noqa: E402
from testkit.emulator_control import EmulatorControl, user_texts  # noqa: E402
from testkit.events_table import EventsTable  # noqa: E402
from testkit.processes import ensure_model, run_dir  # noqa: E402
from testkit.services import postgres_server, redis_server  # noqa: E402
from testkit.socket_user import SocketUser  # noqa: E402

#: The handoff's timers, in compressed seconds.
AGENT_TIMEOUT = 300
IDLE_TIMEOUT = 600
MAX_DURATION = 1500
LIVES = ("answered", "no_agent", "idle", "long")
#: How each life ends (the agent's solve closes the ticket).
LIFE_ENDS = {
    "answered": state.TICKET_CLOSED,
    "no_agent": state.IDLE_TIMEOUT,
    "idle": state.IDLE_TIMEOUT,
    "long": state.MAX_DURATION,
}
MEMORY_GROWTH_LIMIT = 0.05
#: How long a user turn under way on the instance to be killed is given to finish.
DRAIN_SECONDS = 3.0
#: How long a socket takes to be gone, and to come back once its instance is (real time).
RECONNECT_SECONDS = 10.0


@dataclass
class User:
    """One web chat user and what was sent each way (texts are unique per user)."""

    index: int
    session: str
    home_index: int
    life: str
    home: Optional[SocketUser] = None
    sender: Optional[SocketUser] = None
    conversation_id: Optional[str] = None
    user_sent: List[str] = field(default_factory=list)
    agent_sent: List[str] = field(default_factory=list)
    #: When each agent message was sent (real time).
    agent_sent_at: Dict[str, float] = field(default_factory=dict)
    error: Optional[str] = None


class Soak:
    def __init__(self, args: argparse.Namespace, cluster: Cluster, clock_file: ClockFile) -> None:
        self.args = args
        self.cluster = cluster
        self.clock_file = clock_file
        self.emulator = EmulatorControl(cluster.emulator_url)
        self.tracker = EventsTable(cluster.config.postgres.url)
        self.chance = random.Random(args.seed)
        #: The instance being restarted: no new user turn goes to it from when it is drained
        #: until it is back (Rasa itself loses a turn it is in the middle of when killed).
        self.draining: Optional[int] = None
        self.opening = [0, 0]  # handoffs being asked for, per instance
        self.opening_changed = asyncio.Condition()
        self.opened = 0
        self.half = asyncio.Event()
        #: When the instance was killed and when it answered again (real time).
        self.killed_at: Optional[float] = None
        self.ready_at: Optional[float] = None
        self.finished = 0
        self.memory: Dict[str, int] = {}
        self.restart_seconds: Optional[float] = None
        self.ticked = asyncio.Condition()

    # The clock: compressed time, moved by `run_clock`.
    async def run_clock(self, stop: asyncio.Event) -> None:
        step = 0.25
        while not stop.is_set():
            # A restart takes the time it takes: the clock runs at real speed meanwhile, so
            # that timers see a 40-second restart, not a compressed half hour.
            speed = 1.0 if self.draining is not None else self.args.speed
            self.clock_file.advance(speed * step)
            async with self.ticked:
                self.ticked.notify_all()
            try:
                await asyncio.wait_for(stop.wait(), step)
            except asyncio.TimeoutError:
                pass

    async def until(self, at: float) -> None:
        """Wait (real time) until the compressed clock reaches `at`."""
        async with self.ticked:
            await self.ticked.wait_for(lambda: clock.now() >= at)

    async def after(self, seconds: float) -> None:
        await self.until(clock.now() + seconds)

    # One user's life.
    async def live(self, user: User, slots: asyncio.Semaphore) -> None:
        async with slots:
            try:
                await self._live(user)
            except Exception as error:  # noqa: BLE001 (reported with the user)
                user.error = f"{type(error).__name__}: {error}"
            finally:
                self.finished += 1
                if self.finished == self.args.warmup:
                    self.memory["after_warmup"] = self.rss(0)

    async def _live(self, user: User) -> None:
        urls = self.cluster.rasa_urls
        if self.draining == user.home_index:
            user.home_index = 1 - user.home_index
        home = user.home_index
        self.opening[home] += 1
        try:
            user.home = await SocketUser(urls[home], user.session).connect(timeout=60)
            if self.draining is None:  # (else the user writes from home only)
                user.sender = await SocketUser(urls[1 - home], user.session).connect(
                    timeout=60, join=False
                )
            user.conversation_id = await open_handoff(user.home, self.tracker, timeout=300)
        finally:
            self.opening[home] -= 1
            async with self.opening_changed:
                self.opening_changed.notify_all()
        self.opened += 1
        if self.opened >= self.args.users // 2:
            self.half.set()
        life = user.life
        if life == "answered":
            for k in range(3):
                await self.after(self.chance.uniform(20, 200))
                await self.agent_says(user, k)
                await self.after(self.chance.uniform(10, 60))
                await self.user_says(user, k)
            await self.after(self.chance.uniform(20, 120))
            if self.running(user):
                await self.emulator.solve(user.conversation_id)
        elif life == "no_agent":
            await self.user_says(user, 0)
        elif life == "idle":
            await self.after(self.chance.uniform(20, 200))
            await self.agent_says(user, 0)
        else:  # long: both write, never idle that long, until the maximum duration
            record = self.tracker.handoff(user.session)
            assert record is not None
            # An agent message after the end is (rightly) not delivered: stop a little before.
            last_call = record.requested_at + MAX_DURATION - 2 * self.args.speed
            for k in range(50):
                await self.after(self.chance.uniform(60, IDLE_TIMEOUT / 2))
                if clock.now() >= last_call or not self.running(user):
                    break
                await self.agent_says(user, k)
                await self.user_says(user, k)
        await self.wait_ended(user)

    def running(self, user: User) -> bool:
        handoff = self.tracker.handoff(user.session)
        return handoff is not None and handoff.active

    async def wait_ended(self, user: User) -> None:
        limit = time.monotonic() + 1.5 * MAX_DURATION / self.args.speed + 300
        while self.running(user):
            if time.monotonic() > limit:
                raise AssertionError("the handoff never ended")
            await asyncio.sleep(0.5)

    async def agent_says(self, user: User, k: int) -> None:
        """The agent writes (not after the end: such a message is, rightly, not delivered)."""
        assert user.conversation_id is not None
        if not self.running(user):
            return
        text = f"{user.session} agent {k}"
        await self.emulator.agent_message(user.conversation_id, text=text)
        user.agent_sent.append(text)
        user.agent_sent_at[text] = time.monotonic()

    async def user_says(self, user: User, k: int) -> None:
        """The user writes, from whichever of their connections is up (not after the end:
        then the bot answers)."""
        if not self.running(user):
            return
        text = f"{user.session} user {k}"
        connections = ((user.home, user.home_index), (user.sender, 1 - user.home_index))
        for via, instance in connections:
            if via is not None and via.client.connected and instance != self.draining:
                try:
                    await via.send(text)
                except Exception:  # noqa: BLE001 (its instance just went down: the other)
                    continue
                user.user_sent.append(text)
                return
        raise AssertionError(f"no connection of {user.session} was up")

    # The restart in the middle.
    async def restart_one(self) -> None:
        """When half of the users have their handoff: SIGKILL instance 1, start it again.
        User turns are drained from it first (webhooks, timers and sockets are not)."""
        await self.half.wait()
        victim = 1
        self.draining = victim
        async with self.opening_changed:
            await self.opening_changed.wait_for(lambda: not self.opening[victim])
        await asyncio.sleep(DRAIN_SECONDS)  # a turn under way finishes
        process = self.cluster.rasa[victim]
        self.killed_at = time.monotonic()
        process.kill()
        await asyncio.to_thread(process.start)
        await asyncio.to_thread(process.wait_ready)
        self.ready_at = time.monotonic()
        self.restart_seconds = self.ready_at - self.killed_at
        self.draining = None

    def while_down(self, user: User, text: str) -> bool:
        """Whether the agent message was sent while the user's socket's instance was down
        (or reconnecting): then it is in the conversation, but nobody was there to push to."""
        if self.killed_at is None or user.home_index != 1:
            return False
        back = (self.ready_at or float("inf")) + RECONNECT_SECONDS
        return self.killed_at - RECONNECT_SECONDS <= user.agent_sent_at[text] <= back

    def rss(self, index: int) -> int:
        """Resident memory (bytes) of a Rasa instance's process tree."""
        pid = self.cluster.rasa[index].pid
        assert pid is not None
        return sum(_rss(p) for p in [pid, *_descendants(pid)])

    # The checks at the end.
    async def check(self, users: List[User]) -> Dict[str, Any]:
        failures: List[str] = []
        ends: Dict[str, int] = {}
        ends_by_life: Dict[str, Dict[str, int]] = {life: {} for life in LIVES}
        offers = 0
        missed_while_down = 0
        user_messages = agent_messages = 0
        for user in users:
            if user.error:
                failures.append(f"{user.session}: {user.error}")
                continue
            record = self.tracker.handoff(user.session)
            if record is None or record.active:
                failures.append(f"{user.session}: the handoff is still running: {record}")
            else:
                reason = record.end_reason or "?"
                ends[reason] = ends.get(reason, 0) + 1
                by_life = ends_by_life[user.life]
                by_life[reason] = by_life.get(reason, 0) + 1
                offers += record.agent_timeout_offered_at is not None
                if reason != LIFE_ENDS[user.life]:
                    failures.append(
                        f"{user.session} ({user.life}): ended by {reason}, not "
                        f"{LIFE_ENDS[user.life]}: {record}"
                    )
            assert user.conversation_id is not None
            conversation = await self.emulator.conversation_of_id(user.conversation_id)
            at_sunco = [t for t in user_texts(conversation) if t.startswith(f"{user.session} ")]
            user_messages += len(user.user_sent)
            if sorted(at_sunco) != sorted(user.user_sent):
                failures.append(
                    f"{user.session}: the agent got {at_sunco}, the user sent {user.user_sent}"
                )
            stored = self.tracker.texts(user.session, "bot", f"{user.session} agent")
            agent_messages += len(user.agent_sent)
            if sorted(stored) != sorted(user.agent_sent):
                failures.append(
                    f"{user.session}: the conversation has {stored}, the agent sent "
                    f"{user.agent_sent}"
                )
            assert user.home is not None
            seen = [m.text for m in user.home.received if (m.text or "").startswith(user.session)]
            twice = sorted({t for t in seen if seen.count(t) > 1})
            if twice:
                failures.append(f"{user.session}: the user got {twice} more than once")
            missing = [t for t in user.agent_sent if t not in seen]
            missed_while_down += len(missing)
            if [t for t in missing if not self.while_down(user, t)]:
                failures.append(f"{user.session}: {missing} never reached the user's socket")
        for kind, found in (
            ("agent timeout offer", offers),
            ("idle timeout", ends.get(state.IDLE_TIMEOUT, 0)),
            ("max duration", ends.get(state.MAX_DURATION, 0)),
        ):
            if not found:
                failures.append(f"no {kind} fired")
        growth = self.memory["end"] / self.memory["after_warmup"] - 1
        if growth >= MEMORY_GROWTH_LIMIT:
            failures.append(f"the Rasa instance's memory grew by {growth:.1%}")
        return {
            "users": len(users),
            "user_messages": user_messages,
            "agent_messages": agent_messages,
            "agent_messages_sent_while_the_socket_was_down_not_pushed": missed_while_down,
            "ends": ends,
            "ends_by_life": ends_by_life,
            "agent_timeout_offers": offers,
            "memory_after_warmup_mib": round(self.memory["after_warmup"] / 2**20, 1),
            "memory_end_mib": round(self.memory["end"] / 2**20, 1),
            "memory_growth": round(growth, 4),
            "restart_seconds": round(self.restart_seconds or 0.0, 1),
            "failures": failures,
        }


async def soak(args: argparse.Namespace) -> Dict[str, Any]:
    clock_path = Path(args.run_dir) / "clock"
    clock_path.parent.mkdir(parents=True, exist_ok=True)
    clock_file = ClockFile(clock_path)
    os.environ[clock.CLOCK_FILE_ENV] = str(clock_path)
    with postgres_server() as postgres, redis_server() as redis:
        config = ClusterConfig(
            model=ensure_model(),
            run_dir=Path(args.run_dir),
            postgres=postgres,
            redis=redis,
            extra_env={
                clock.CLOCK_FILE_ENV: str(clock_path),
                "ZENDESK_AGENT_TIMEOUT": str(AGENT_TIMEOUT),
                "ZENDESK_IDLE_TIMEOUT": str(IDLE_TIMEOUT),
                "ZENDESK_MAX_DURATION": str(MAX_DURATION),
            },
            startup_timeout=600,
        )
        with Cluster(config) as cluster:
            return await run_soak(args, cluster, clock_file)


async def run_soak(args: argparse.Namespace, cluster: Cluster, clock_file: ClockFile) -> Dict:
    run = Soak(args, cluster, clock_file)
    await unkind(run.emulator, args.users)
    users = [
        User(i, f"soak{i:04d}-{random.Random(i).getrandbits(32):08x}", i % 2, LIVES[i % 4])
        for i in range(args.users)
    ]
    stop = asyncio.Event()
    ticking = asyncio.create_task(run.run_clock(stop))
    restart = asyncio.create_task(run.restart_one())
    began, clock_began = time.monotonic(), clock.now()
    slots = asyncio.Semaphore(args.concurrent)
    lives = []
    for user in users:
        lives.append(asyncio.create_task(run.live(user, slots)))
    await asyncio.gather(*lives)
    run.half.set()  # (if fewer than half got a handoff)
    stop.set()
    await ticking
    await restart
    await run.emulator.wait_idle(timeout=120)
    run.memory["end"] = run.rss(0)
    result = await run.check(users)
    result.update(
        real_seconds=round(time.monotonic() - began, 1),
        compressed_hours=round((clock.now() - clock_began) / 3600, 2),
        speed=args.speed,
        concurrent=args.concurrent,
        unkind=await unkind_hits(run.emulator),
    )
    for user in users:
        for connection in (user.home, user.sender):
            if connection is not None:
                await connection.close()
    await run.emulator.close()
    return result


async def unkind(emulator: EmulatorControl, users: int) -> None:
    """SunCo's unkind modes, armed at the start (their counts scale with the users)."""
    await emulator.webhook_mode(mode="duplicate", type="conversation:message", count=users)
    await emulator.webhook_mode(mode="reorder", count=users, maxWait=2)
    for fault in (
        {"method": "POST", "pathContains": "/messages", "status": 429, "count": users // 10 + 1},
        {
            "method": "POST",
            "pathContains": "/messages",
            "status": 500,
            "after": True,
            "count": users // 20 + 1,
        },
    ):
        await emulator._post("/_emulator/faults", fault)


async def unkind_hits(emulator: EmulatorControl) -> Dict[str, int]:
    """How often each unkind mode struck (the emulator counts)."""
    hits: Dict[str, int] = {}
    done = {"duplicate": "duplicated", "reorder": "reordered", "hold": "held", "drop": "dropped"}
    for rule in (await emulator._get("/_emulator/webhook-mode"))["rules"]:
        hits[f"webhooks {done[rule['mode']]}"] = rule.get("hits", 0)
    for fault in (await emulator._get("/_emulator/faults"))["faults"]:
        after = " after applying" if fault.get("after") else ""
        hits[f"POST .../messages answered {fault['status']}{after}"] = fault.get("hits", 0)
    return hits


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> List[int]:
    found: List[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found += [int(entry.name), *_descendants(int(entry.name))]
    return found


def _counts(counts: Dict[str, int]) -> str:
    return ", ".join(f"{what} {count}" for what, count in sorted(counts.items()))


def table(result: Dict[str, Any]) -> str:
    ends = _counts(result["ends"])
    rows = [
        ("users (handoffs)", result["users"]),
        ("open at once (at most)", result["concurrent"]),
        ("compressed time", f"{result['compressed_hours']} h at {result['speed']}x"),
        ("real time", f"{result['real_seconds']} s"),
        ("user messages / reached the agent once", result["user_messages"]),
        ("agent messages / in the conversation once", result["agent_messages"]),
        (
            "agent messages not pushed (socket's instance down)",
            result["agent_messages_sent_while_the_socket_was_down_not_pushed"],
        ),
        ("agent timeout offers", result["agent_timeout_offers"]),
        ("ends", ends),
        *((f"ends of the *{life}* lives", _counts(result["ends_by_life"][life])) for life in LIVES),
        ("Rasa instance restarted in", f"{result['restart_seconds']} s"),
        (
            "memory after warm-up -> end",
            f"{result['memory_after_warmup_mib']} -> {result['memory_end_mib']} MiB "
            f"({result['memory_growth']:+.1%})",
        ),
        *((f"SunCo: {what}", count) for what, count in result["unkind"].items()),
        ("failures", len(result["failures"])),
    ]
    return "\n".join(["| soak | |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--speed", type=float, default=30.0, help="compressed s per real s")
    parser.add_argument("--warmup", type=int, default=0, help="handoffs (default: users/10)")
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--run-dir", default=str(run_dir("soak")))
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "bench")
    args = parser.parse_args(argv)
    args.warmup = args.warmup or max(1, args.users // 10)
    result = asyncio.run(soak(args))
    text = table(result)
    print(text)
    for failure in result["failures"]:
        print("FAILED:", failure, file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soak.json").write_text(json.dumps(result, indent=2))
    (args.out / "soak.md").write_text(text + "\n")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
