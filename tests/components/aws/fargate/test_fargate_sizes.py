import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genai_platform.components.aws.fargate.sizes import (
    FARGATE_MEMORY_MIB,
    check_fargate_size,
    smallest_fargate_size,
    valid_memory_mib,
)

# AWS's table (ECS developer guide, "Task CPU and memory"), written out rather than computed.
AWS_TABLE = {
    256: [512, 1024, 2048],
    512: [1024, 2048, 3072, 4096],
    1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
    2048: list(range(4096, 16385, 1024)),
    4096: list(range(8192, 30721, 1024)),
    8192: [16384, 20480, 24576, 28672, 32768, 36864, 40960, 45056, 49152, 53248, 57344, 61440],
    16384: [32768, 40960, 49152, 57344, 65536, 73728, 81920, 90112, 98304, 106496, 114688, 122880],
}


def test_table_matches_aws():
    assert {cpu: list(memories) for cpu, memories in FARGATE_MEMORY_MIB.items()} == AWS_TABLE
    assert len(FARGATE_MEMORY_MIB[2048]) == 13
    assert len(FARGATE_MEMORY_MIB[4096]) == 23


@pytest.mark.parametrize(("cpu", "memory"), [(cpu, memory) for cpu, memories in AWS_TABLE.items() for memory in memories])
def test_every_valid_pair_passes(cpu, memory):
    check_fargate_size(cpu, memory)


@pytest.mark.parametrize(("cpu", "memory", "message"), [
    (256, 4096, "memory_mib=4096 is not valid with cpu=256 on Fargate: use one of 512, 1024, 2048."),
    (256, 3072, "memory_mib=3072 is not valid with cpu=256 on Fargate: use one of 512, 1024, 2048."),
    (512, 512, "memory_mib=512 is not valid with cpu=512 on Fargate: use one of 1024, 2048, 3072, 4096."),
    (512, 1536, "memory_mib=1536 is not valid with cpu=512 on Fargate: use one of 1024, 2048, 3072, 4096."),
    (1024, 1024, "memory_mib=1024 is not valid with cpu=1024 on Fargate: "
                 "use one of 2048, 3072, 4096, 5120, 6144, 7168, 8192."),
    (2048, 17408, "memory_mib=17408 is not valid with cpu=2048 on Fargate: use one of 4096, 5120, 6144, 7168, "
                  "8192, 9216, 10240, 11264, 12288, 13312, 14336, 15360, 16384."),
    (4096, 31744, "memory_mib=31744 is not valid with cpu=4096 on Fargate: use one of "
                  + ", ".join(str(m) for m in range(8192, 30721, 1024)) + "."),
    (8192, 17408, "memory_mib=17408 is not valid with cpu=8192 on Fargate: use one of 16384, 20480, 24576, "
                  "28672, 32768, 36864, 40960, 45056, 49152, 53248, 57344, 61440."),
    (16384, 36864, "memory_mib=36864 is not valid with cpu=16384 on Fargate: use one of 32768, 40960, 49152, "
                   "57344, 65536, 73728, 81920, 90112, 98304, 106496, 114688, 122880."),
])
def test_invalid_memory_names_the_valid_ones(cpu, memory, message):
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        check_fargate_size(cpu, memory)
    assert str(error.value) == message


@pytest.mark.parametrize("cpu", [0, 128, 768, 1000, 3072, 32768])
def test_unknown_cpu_is_rejected(cpu):
    message = (f"cpu={cpu} is not a Fargate CPU size: use one of 256, 512, 1024, 2048, 4096, 8192, 16384 "
               "(CPU units; 1024 = 1 vCPU).")
    with pytest.raises(ValueError) as error:
        check_fargate_size(cpu, 2048)
    assert str(error.value) == message
    with pytest.raises(ValueError):
        valid_memory_mib(cpu)


@given(st.sampled_from(sorted(FARGATE_MEMORY_MIB)), st.integers(min_value=1, max_value=200_000))
def test_check_agrees_with_the_table(cpu, memory):
    if memory in FARGATE_MEMORY_MIB[cpu]:
        check_fargate_size(cpu, memory)
    else:
        with pytest.raises(ValueError, match=f"memory_mib={memory} is not valid with cpu={cpu}"):
            check_fargate_size(cpu, memory)


@pytest.mark.parametrize(("vcpu", "memory", "expected"), [
    (0.25, 512, (256, 512)),
    (0.25, 600, (256, 1024)),
    (0.25, 3000, (512, 3072)),  # 256 tops out at 2 GiB: the next CPU size is the cheapest fit
    (1, 2048, (1024, 2048)),
    (1, 10000, (2048, 10240)),
    (4, 8192, (4096, 8192)),
    (16, 122880, (16384, 122880)),
])
def test_smallest_size(vcpu, memory, expected):
    assert smallest_fargate_size(vcpu, memory) == expected


def test_smallest_size_beyond_fargate():
    with pytest.raises(ValueError, match=re.escape(
            "min_vcpu=16, min_memory_mib=130000 exceeds the largest Fargate task (16 vCPU, 122880 MiB): "
            "use EC2 capacity or split the work.")):
        smallest_fargate_size(16, 130000)


@given(st.floats(min_value=0.01, max_value=16), st.integers(min_value=1, max_value=122880))
def test_smallest_size_is_valid_and_big_enough(vcpu, memory):
    cpu, memory_mib = smallest_fargate_size(vcpu, memory)
    check_fargate_size(cpu, memory_mib)
    assert cpu >= vcpu * 1024 and memory_mib >= memory
