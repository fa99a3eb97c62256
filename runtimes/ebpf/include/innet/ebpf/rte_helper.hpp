// rte_helper: a C++ function that programs loaded by rte_executor may call.
//
// rte_bpf has no kernel helpers and no maps: a program sees its context and the
// external functions the loader registers (struct rte_bpf_xsym). A BPF program calls
// one by declaring it and calling it,
//
//   extern "C" __u64 innet_mix(__u64 a, __u64 b);     // in the BPF source
//
// which clang emits as a call to an undefined symbol; rte_bpf_elf_load() resolves it
// by name against the registered helpers. The kernel has no such symbols, so an
// object with these calls is for rte_bpf only (or keeps them in programs the kernel
// executor does not load).
//
// rte_bpf calls every helper as uint64_t(uint64_t x5) and its verifier checks each
// argument against a declared type. rte_helper::of<&f>("name") derives both from f's
// signature: integers are RTE_BPF_ARG_RAW of their size; a T* (T complete, not void)
// is RTE_BPF_ARG_PTR to sizeof(T) bytes, so the verifier refuses a program that
// passes a smaller buffer. A trampoline converts the five registers to f's
// parameters, so f needs no special signature.
#pragma once

#include <rte_bpf.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

namespace innet::ebpf {

struct rte_helper {
  using function_type = std::uint64_t (*)(std::uint64_t, std::uint64_t, std::uint64_t,
                                          std::uint64_t, std::uint64_t);

  std::string name;  // the symbol the program calls
  function_type function = nullptr;
  std::uint32_t arg_count = 0;
  std::array<rte_bpf_arg, EBPF_FUNC_MAX_ARGS> args{};
  rte_bpf_arg ret{};

  template <auto Function>
  static rte_helper of(std::string name);
};

namespace detail {

template <class T>
constexpr rte_bpf_arg rte_arg_of() {
  if constexpr (std::is_pointer_v<T>) {
    using pointee = std::remove_cv_t<std::remove_pointer_t<T>>;
    static_assert(!std::is_void_v<pointee>,
                  "an rte_bpf helper's pointer argument needs a complete type: the verifier "
                  "checks the program passes sizeof(T) accessible bytes");
    return {RTE_BPF_ARG_PTR, sizeof(pointee), 0};
  } else {
    static_assert(std::is_integral_v<T> && sizeof(T) <= sizeof(std::uint64_t),
                  "an rte_bpf helper takes and returns integers or pointers");
    return {RTE_BPF_ARG_RAW, sizeof(T), 0};
  }
}

template <class T>
T from_register(std::uint64_t value) noexcept {
  if constexpr (std::is_pointer_v<T>) {
    return reinterpret_cast<T>(static_cast<std::uintptr_t>(value));
  } else {
    return static_cast<T>(value);
  }
}

template <class T>
std::uint64_t to_register(T value) noexcept {
  if constexpr (std::is_pointer_v<T>) {
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(value));
  } else {
    return static_cast<std::uint64_t>(value);
  }
}

template <auto Function, class R, class... Args>
struct rte_trampoline {
  static_assert(sizeof...(Args) <= EBPF_FUNC_MAX_ARGS, "rte_bpf helpers take at most 5 arguments");

  static std::uint64_t call(std::uint64_t r1, std::uint64_t r2, std::uint64_t r3, std::uint64_t r4,
                            std::uint64_t r5) {
    const std::uint64_t registers[EBPF_FUNC_MAX_ARGS] = {r1, r2, r3, r4, r5};
    return invoke(registers, std::index_sequence_for<Args...>{});
  }

  template <std::size_t... I>
  static std::uint64_t invoke(const std::uint64_t (&registers)[EBPF_FUNC_MAX_ARGS],
                              std::index_sequence<I...>) {
    if constexpr (std::is_void_v<R>) {
      Function(from_register<Args>(registers[I])...);
      return 0;
    } else {
      return to_register<R>(Function(from_register<Args>(registers[I])...));
    }
  }

  static rte_helper describe(std::string name) {
    rte_helper h;
    h.name = std::move(name);
    h.function = &call;
    h.arg_count = sizeof...(Args);
    [[maybe_unused]] std::size_t i = 0;
    ((h.args[i++] = rte_arg_of<Args>()), ...);
    if constexpr (std::is_void_v<R>) {
      h.ret = {RTE_BPF_ARG_RAW, sizeof(std::uint64_t), 0};
    } else {
      h.ret = rte_arg_of<R>();
    }
    return h;
  }
};

template <auto Function, class Signature>
struct rte_helper_traits;
template <auto Function, class R, class... Args>
struct rte_helper_traits<Function, R (*)(Args...)> : rte_trampoline<Function, R, Args...> {};
template <auto Function, class R, class... Args>
struct rte_helper_traits<Function, R (*)(Args...) noexcept> : rte_trampoline<Function, R, Args...> {
};

}  // namespace detail

template <auto Function>
rte_helper rte_helper::of(std::string name) {
  return detail::rte_helper_traits<Function, decltype(Function)>::describe(std::move(name));
}

}  // namespace innet::ebpf
