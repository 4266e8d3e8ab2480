"""Fargate task sizes: the CPU/memory pairs AWS accepts, and a check with one clear message.

AWS rejects any other pair only at ``RegisterTaskDefinition`` time, deep inside a deploy;
checking here turns that into a plan-time error that names the valid memories.
"""

CPU_UNITS_PER_VCPU = 1024


def _steps(first: int, last: int, step: int) -> tuple[int, ...]:
    return tuple(range(first, last + 1, step))


FARGATE_MEMORY_MIB: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _steps(1024, 4096, 1024),
    1024: _steps(2048, 8192, 1024),
    2048: _steps(4096, 16384, 1024),
    4096: _steps(8192, 30720, 1024),
    8192: _steps(16384, 61440, 4096),
    16384: _steps(32768, 122880, 8192),
}
"""Memory sizes (MiB) Fargate accepts for each task CPU size (CPU units; 1024 = 1 vCPU), Linux tasks.
8 and 16 vCPU need platform version 1.4.0 or later (``LATEST``)."""


def valid_memory_mib(cpu: int) -> tuple[int, ...]:
    """The memory sizes Fargate accepts with ``cpu`` units; raises ``ValueError`` for an unknown CPU size."""
    if cpu not in FARGATE_MEMORY_MIB:
        raise ValueError(
            f"cpu={cpu} is not a Fargate CPU size: use one of {', '.join(map(str, FARGATE_MEMORY_MIB))} "
            f"(CPU units; {CPU_UNITS_PER_VCPU} = 1 vCPU)."
        )
    return FARGATE_MEMORY_MIB[cpu]


def check_fargate_size(cpu: int, memory_mib: int) -> None:
    """Raise ``ValueError`` unless ``cpu``/``memory_mib`` is a task size Fargate accepts."""
    memories = valid_memory_mib(cpu)
    if memory_mib not in memories:
        raise ValueError(
            f"memory_mib={memory_mib} is not valid with cpu={cpu} on Fargate: "
            f"use one of {', '.join(map(str, memories))}."
        )


def smallest_fargate_size(min_vcpu: float, min_memory_mib: int) -> tuple[int, int]:
    """The cheapest (cpu, memory_mib) pair with at least ``min_vcpu`` vCPU and ``min_memory_mib`` MiB.

    Fargate bills vCPU at ~9x the per-GiB memory rate, so the smallest CPU that can hold the memory
    wins; within it, the smallest memory that fits. Raises ``ValueError`` when nothing is big enough.
    """
    for cpu, memories in FARGATE_MEMORY_MIB.items():
        if cpu < min_vcpu * CPU_UNITS_PER_VCPU:
            continue
        fitting = [m for m in memories if m >= min_memory_mib]
        if fitting:
            return cpu, fitting[0]
    largest_cpu = max(FARGATE_MEMORY_MIB)
    raise ValueError(
        f"min_vcpu={min_vcpu}, min_memory_mib={min_memory_mib} exceeds the largest Fargate task "
        f"({largest_cpu // CPU_UNITS_PER_VCPU} vCPU, {FARGATE_MEMORY_MIB[largest_cpu][-1]} MiB): "
        "use EC2 capacity or split the work."
    )
