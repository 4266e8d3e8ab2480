"""Session fixtures of the policy tests: each stack planned once, and the policy pack served the way
``pulumi preview --policy-pack policies`` serves it, once per environment.

The engine's policy shim starts ``python -m pulumi.policy <engine address> .`` in the pack folder with
the stack in ``PULUMI_STACK``, reads the Analyzer's port from the first stdout line, and talks to it
with pulumi's Analyzer protocol. The engine address is a real (fake) Engine service: pulumi_policy
1.21 never dials it, but a later version that logs through it finds it there.
"""

import os
import subprocess
import sys
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc, engine_pb2_grpc


PACK_DIR = Path(__file__).resolve().parents[2] / "policies"
STARTUP_SECONDS = 60  # the pack imports every rule module; a loaded CI machine is slow


class FakeEngine(engine_pb2_grpc.EngineServicer):
    """The engine's side of the address handed to the pack: keeps what the pack logs."""

    def __init__(self) -> None:
        self.logs: list[str] = []

    def Log(self, request, context):  # noqa: N802 - the RPC's name
        self.logs.append(request.message)
        return empty_pb2.Empty()


class AnsweredOnce:
    """An Analyzer stub that sends each distinct ``Analyze`` request once per configuration.

    A first preview repeats most known-value requests byte for byte; asking the served pack again
    would only double the test's time. ``Configure`` starts afresh.
    """

    def __init__(self, stub: analyzer_pb2_grpc.AnalyzerStub):
        self._stub = stub
        self._answers: dict[bytes, object] = {}

    def Configure(self, request):  # noqa: N802 - the RPC's name
        self._answers.clear()
        return self._stub.Configure(request)

    def Analyze(self, request):  # noqa: N802
        key = request.SerializeToString(deterministic=True)
        if key not in self._answers:
            self._answers[key] = self._stub.Analyze(request)
        return self._answers[key]

    def __getattr__(self, method: str):
        return getattr(self._stub, method)


class ServedPack:
    """One running pack process and an Analyzer stub connected to it."""

    def __init__(self, environment: str):
        self.engine = FakeEngine()
        self._engine_server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
        engine_pb2_grpc.add_EngineServicer_to_server(self.engine, self._engine_server)
        engine_port = self._engine_server.add_insecure_port("127.0.0.1:0")
        self._engine_server.start()

        # The engine passes the stack and project; PYTHONPATH is dropped so the pack must find the
        # repository packages itself (policies/__main__.py puts the repository root on sys.path).
        environ = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        environ.update(PULUMI_STACK=environment, PULUMI_PROJECT="genai-platform", PULUMI_DRY_RUN="true")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pulumi.policy", f"127.0.0.1:{engine_port}", "."], cwd=PACK_DIR, env=environ,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first_line = self.process.stdout.readline().strip()
        if not first_line.isdigit():
            self.close()
            raise RuntimeError(f"the pack did not print its port: {first_line!r}\n{self.process.stderr.read()}")
        self._channel = grpc.insecure_channel(f"127.0.0.1:{first_line}")
        grpc.channel_ready_future(self._channel).result(timeout=STARTUP_SECONDS)
        self.analyzer = AnsweredOnce(analyzer_pb2_grpc.AnalyzerStub(self._channel))

    def close(self) -> None:
        if getattr(self, "_channel", None) is not None:
            self._channel.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        self._engine_server.stop(0)


@pytest.fixture(scope="session")
def served_pack():
    """``served_pack(environment)``: the pack served for that stack, started on first use."""
    packs: dict[str, ServedPack] = {}

    def pack_for(environment: str) -> ServedPack:
        if environment not in packs:
            packs[environment] = ServedPack(environment)
        return packs[environment]

    yield pack_for
    for pack in packs.values():
        pack.close()
