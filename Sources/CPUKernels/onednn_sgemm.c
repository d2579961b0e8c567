#include "onednn_sgemm.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

// The parts of oneDNN's C API used here (oneapi/dnnl/dnnl_types.h), declared
// rather than included, so that building needs no oneDNN headers.
typedef struct {
    int major, minor, patch;
    const char *hash;
    unsigned cpu_runtime, gpu_runtime;
} onednn_version_t;
enum { ONEDNN_RUNTIME_SEQ = 1u, ONEDNN_RUNTIME_OMP = 2u };

typedef int (*sgemm_fn)(char, char, int64_t, int64_t, int64_t, float, const float *, int64_t, const float *,
                        int64_t, float, float *, int64_t);
typedef const onednn_version_t *(*version_fn)(void);
typedef int (*isa_fn)(void);
typedef void (*set_threads_fn)(int);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *requested_path;
static int opened;
static char reason[512];
static char opened_path[256];
static sgemm_fn sgemm;
static set_threads_fn omp_set_num_threads_fn;  // NULL for the sequential runtime
static onednn_version_t version;
static const char *isa_name = "unknown";

// dnnl_cpu_isa_t's values (oneDNN 2.x and 3.x).
static const char *name_of_isa(int isa) {
    switch (isa) {
    case 0x1: return "sse41";
    case 0x3: return "avx";
    case 0x7: return "avx2";
    case 0x407: return "avx2_vnni";
    case 0x27: return "avx512_core";
    case 0x67: return "avx512_core_vnni";
    case 0xe7: return "avx512_core_bf16";
    case 0x3e7: return "avx512_core_amx";
    default: return "unknown";
    }
}

static void open_once(void) {
    const char *candidates[] = {requested_path, "libdnnl.so.3", "libdnnl.so.2"};
    void *handle = NULL;
    reason[0] = 0;
    for (size_t i = requested_path ? 0 : 1; i < 3 && !handle; i++) {
        handle = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
        if (handle) {
            snprintf(opened_path, sizeof opened_path, "%s", candidates[i]);
        } else {
            const char *message = dlerror();
            size_t used = strlen(reason);
            snprintf(reason + used, sizeof reason - used, "%s%s", used ? "; " : "", message ? message : candidates[i]);
        }
        if (requested_path) break;  // a path the user named is the only one tried
    }
    if (!handle) return;
    sgemm = (sgemm_fn)dlsym(handle, "dnnl_sgemm");
    version_fn get_version = (version_fn)dlsym(handle, "dnnl_version");
    isa_fn get_isa = (isa_fn)dlsym(handle, "dnnl_get_effective_cpu_isa");
    if (!sgemm || !get_version) {
        snprintf(reason, sizeof reason, "%s has no dnnl_sgemm or dnnl_version", opened_path);
        return;
    }
    version = *get_version();
    if (get_isa) isa_name = name_of_isa(get_isa());
    if (version.cpu_runtime == ONEDNN_RUNTIME_OMP) {
        omp_set_num_threads_fn = (set_threads_fn)dlsym(handle, "omp_set_num_threads");
        if (!omp_set_num_threads_fn) {
            snprintf(reason, sizeof reason, "%s uses OpenMP but omp_set_num_threads was not found", opened_path);
            return;
        }
    } else if (version.cpu_runtime != ONEDNN_RUNTIME_SEQ) {
        snprintf(reason, sizeof reason,
                 "%s %d.%d.%d threads with a runtime (%u) whose threads cannot be limited per call; "
                 "only OpenMP and sequential builds are used",
                 opened_path, version.major, version.minor, version.patch, version.cpu_runtime);
        return;
    }
    opened = 1;
}

int nn_onednn_open(const char *path, char *error, size_t error_size) {
    requested_path = path;
    pthread_once(&once, open_once);
    if (!opened && error && error_size) snprintf(error, error_size, "%s", reason);
    return opened;
}

const char *nn_onednn_path(void) { return opened_path; }

void nn_onednn_version(int *major, int *minor, int *patch) {
    *major = version.major;
    *minor = version.minor;
    *patch = version.patch;
}

const char *nn_onednn_isa(void) { return isa_name; }

// Whether this thread has set OpenMP's thread count to one.
static __thread int single_threaded;

int nn_onednn_sgemm(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                    int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    if (!single_threaded) {
        if (omp_set_num_threads_fn) omp_set_num_threads_fn(1);
        single_threaded = 1;
    }
    return sgemm(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
