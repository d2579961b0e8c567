#!/usr/bin/env bash
# The launcher of a swift-nn bundle (made by scripts/bundle): runs the
# bundle's programs with its own libraries, on a machine with no Swift
# toolchain and nothing installed but a GPU driver.
#
#   ./run.sh nnbench check                 every backend op on the CPU and on each OpenCL device
#   ./run.sh nnbench run --quick --suite gemm,conv,train
#   ./run.sh gpu-report [DIR]              devices, check, benchmarks and PyTorch beside them, into DIR
#
# OpenCL: the bundle carries the ICD loader (libOpenCL.so.1); the driver is
# the machine's. When /etc/OpenCL/vendors lists no driver and OCL_ICD_VENDORS
# is unset, a vendor library found on the machine (NVIDIA's
# libnvidia-opencl.so.1, AMD's, Intel's, PoCL's) is registered for this run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# Prints the path of the first library named $1 on this machine.
find_library() {
    path=$(ldconfig -p 2>/dev/null | awk -v n="$1" '$1 == n { print $NF; exit }')
    if [ -z "$path" ]; then
        for dir in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/nvidia/lib64 /usr/local/nvidia/lib \
                   /usr/local/cuda/lib64 /usr/lib/wsl/lib /opt/rocm/lib /opt/intel/opencl/lib64; do
            [ -e "$dir/$1" ] && { path="$dir/$1"; break; }
        done
    fi
    [ -n "$path" ] && echo "$path"
}

# NN_SYSTEM_ICD_DIR stands in for /etc/OpenCL/vendors in scripts/check-bundle.
if [ -z "${OCL_ICD_VENDORS:-}" ] && ! ls "${NN_SYSTEM_ICD_DIR:-/etc/OpenCL/vendors}"/*.icd >/dev/null 2>&1; then
    vendors=""
    for name in libnvidia-opencl.so.1 libamdocl64.so libigdrcl.so libintelocl.so libpocl.so.2; do
        lib=$(find_library "$name") || continue
        [ -n "$vendors" ] || vendors=$(mktemp -d "${TMPDIR:-/tmp}/swift-nn-icd.XXXXXX")
        echo "$lib" >"$vendors/${name%%.so*}.icd"
        echo "run.sh: registered OpenCL driver $lib (no /etc/OpenCL/vendors entry)" >&2
    done
    if [ -n "$vendors" ]; then
        export OCL_ICD_VENDORS="$vendors"
    else
        echo "run.sh: no OpenCL driver found (no /etc/OpenCL/vendors/*.icd, no vendor library); only the CPU backend" >&2
    fi
fi

# gpu-report DIR: what the GPU-path issue asks of a GPU machine, in one go.
gpu_report() {
    out=${1:-gpu-report}
    mkdir -p "$out"
    status=0
    { "$here/bin/nnbench" devices 2>&1; nvidia-smi 2>&1 || true; } | tee "$out/devices.txt"
    "$here/bin/nnbench" check 2>&1 | tee "$out/check.txt" || status=1
    "$here/bin/nnbench" run --quick --large --suite gemm,conv,train --json "$out/nnbench.json" --svg "$out/nnbench.svg" 2>&1 \
        | tee "$out/nnbench.txt" || status=1
    if command -v python3 >/dev/null 2>&1; then
        python3 "$here/pytorch_reference.py" --json "$out/pytorch.json" 2>&1 | tee "$out/pytorch.txt" || true
    else
        echo "run.sh: no python3, no PyTorch rows" | tee "$out/pytorch.txt"
    fi
    echo "gpu-report: results in $out"
    return $status
}

program=${1:-}
[ $# -gt 0 ] && shift
case "$program" in
    gpu-report) gpu_report "$@" ;;
    nnbench) exec "$here/bin/nnbench" "$@" ;;
    ""|-h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) echo "run.sh: unknown program '$program' (nnbench, gpu-report)" >&2; exit 64 ;;
esac
