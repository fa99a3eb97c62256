// Sanitizer defaults for the CUDA test binaries; compiled into each of them.
//
// AddressSanitizer write-protects the "shadow gap" of the address space, which is where the
// CUDA driver reserves its unified address range, so under ASan driver initialisation or the
// first cudaMalloc fails (cudaErrorMemoryAllocation / cudaErrorNoDevice; see
// google/sanitizers#629). The driver and runtime also keep allocations from their
// initialisation until exit, which LeakSanitizer reports as leaks that innet cannot fix. These
// are only defaults: the same flag set in ASAN_OPTIONS overrides them.
#if defined(__SANITIZE_ADDRESS__)
#define INNET_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define INNET_TEST_ASAN 1
#endif
#endif

#if defined(INNET_TEST_ASAN)
extern "C" const char* __asan_default_options() {
  return "protect_shadow_gap=0";
}
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libcuda.so\nleak:libcudart.so\n";
}
#endif
