// How every CPUKernels loop is built once per instruction-set level
// (cpu_kernels.h: baseline x86-64, x86-64-v3, x86-64-v4; elsewhere than
// x86-64 the compiler's default target alone) and picked at run time.
// Internal to CPUKernels.
//
//   NN_DEFINE_AT_EVERY_LEVEL(DEFINE)  expands DEFINE(suffix, attributes) once
//                                     per level, the attributes giving that
//                                     level's target;
//   NN_LEVEL_TABLE(ENTRY)             the initializer {ENTRY(suffix), ...},
//                                     narrowest first, that nn_cpu_level()
//                                     indexes.
#ifndef NN_KERNEL_LEVELS_H
#define NN_KERNEL_LEVELS_H

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define NN_X86_LEVELS 1
#define NN_DEFINE_AT_EVERY_LEVEL(DEFINE)                    \
    DEFINE(baseline, )                                      \
    DEFINE(v3, __attribute__((target("arch=x86-64-v3"))))   \
    DEFINE(v4, __attribute__((target("arch=x86-64-v4"))))
#define NN_LEVEL_TABLE(ENTRY) {ENTRY(baseline), ENTRY(v3), ENTRY(v4)}
#else
#define NN_X86_LEVELS 0
#define NN_DEFINE_AT_EVERY_LEVEL(DEFINE) DEFINE(baseline, )
#define NN_LEVEL_TABLE(ENTRY) {ENTRY(baseline)}
#endif

#endif
