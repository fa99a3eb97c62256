# QEMU guests for tests that need a kernel of their own (Soft-RoCE, the kernel module).
#
# Included by tests/qemu/CMakeLists.txt and, because the kernel module must be built
# for the kernel the guest boots, by kernel-module/CMakeLists.txt, which the top level
# adds before tests/: so innet_guest_test() exists before tests/runtimes/ is read.
#
#   INNET_GUEST_KERNEL_VERSION  the guest kernel: INNET_GUEST_KERNEL when set, else the
#                               newest /boot/vmlinuz-<v> that has /lib/modules/<v>;
#                               empty when there is none (guest-run then fails naming
#                               linux-image-amd64)
#   INNET_GUEST_RUN             tests/qemu/guest-run
#   INNET_GUEST_RUN_OPTIONS     the options every guest of this build gets (--kernel, --cache)
#   innet_guest_test(...)       a ctest that runs a command in a guest (below)
include_guard(GLOBAL)

set(INNET_GUEST_KERNEL "" CACHE STRING
    "Kernel version QEMU guests boot (/boot/vmlinuz-<version>); empty: the newest installed")
set(INNET_GUEST_RUN ${CMAKE_CURRENT_LIST_DIR}/guest-run CACHE INTERNAL "the QEMU guest harness")

function(_innet_guest_pick_kernel out)
  if(INNET_GUEST_KERNEL)
    set(${out} ${INNET_GUEST_KERNEL} PARENT_SCOPE)
    return()
  endif()
  file(GLOB images LIST_DIRECTORIES false /boot/vmlinuz-*)
  list(SORT images COMPARE NATURAL ORDER DESCENDING)
  foreach(image IN LISTS images)
    string(REGEX REPLACE "^/boot/vmlinuz-" "" version "${image}")
    if(EXISTS /lib/modules/${version}/modules.dep)
      set(${out} ${version} PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} "" PARENT_SCOPE)
endfunction()
_innet_guest_pick_kernel(_innet_guest_kernel)
set(INNET_GUEST_KERNEL_VERSION "${_innet_guest_kernel}" CACHE INTERNAL "kernel QEMU guests boot")

# Options every guest of this build gets: the kernel chosen above, and a cache for the
# kernel's uncompressed image (guest-run --cache) in the build tree.
set(_innet_guest_options --cache ${CMAKE_BINARY_DIR}/qemu-guest-cache)
if(INNET_GUEST_KERNEL_VERSION)
  list(APPEND _innet_guest_options --kernel ${INNET_GUEST_KERNEL_VERSION})
endif()
set(INNET_GUEST_RUN_OPTIONS "${_innet_guest_options}" CACHE INTERNAL "guest-run options for this build")

# innet_guest_test(NAME <ctest name> COMMAND <guest command line...>
#                  [MODULES <module>...] [COPY <path or generator expression>...]
#                  [NUMA] [NUMA_DISTANCE <n>] [NET] [MEMORY <MiB>] [TIMEOUT <s>]
#                  [APPEND <kernel argument>...] [CHECK_DMESG] [LABELS <label>...])
#
# Registers a ctest that runs tests/qemu/guest-run with those options (see its --help).
# The COMMAND words are joined with spaces and run by the guest's /bin/sh -c; write a
# command list with '&&' or '||' rather than ';', which CMake takes as a list separator.
# The test is labelled qemu, reports exit status 77 as skipped, reserves as many CPUs as
# the guest has, and gets a ctest TIMEOUT 30 s above the guest's own (default 180 s) so
# that guest-run's timeout fires first and reports it. It depends on nothing but files:
# whatever COPY names must be built by 'all'.
function(innet_guest_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "NUMA;NET;CHECK_DMESG"
                        "NAME;NUMA_DISTANCE;MEMORY;TIMEOUT" "MODULES;COPY;APPEND;LABELS;COMMAND")
  if(NOT arg_NAME OR NOT arg_COMMAND)
    message(FATAL_ERROR "innet_guest_test: NAME and COMMAND are required")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "innet_guest_test(${arg_NAME}): unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  set(timeout 180)
  if(arg_TIMEOUT)
    set(timeout ${arg_TIMEOUT})
  endif()

  set(argv ${INNET_GUEST_RUN} ${INNET_GUEST_RUN_OPTIONS} --timeout ${timeout})
  if(arg_MODULES)
    list(JOIN arg_MODULES " " modules)
    list(APPEND argv --modules "${modules}")
  endif()
  foreach(path IN LISTS arg_COPY)
    list(APPEND argv --copy ${path})
  endforeach()
  set(processors 1)
  if(arg_NUMA)
    list(APPEND argv --numa)
    set(processors 2)
  endif()
  if(arg_NUMA_DISTANCE)
    list(APPEND argv --numa-distance ${arg_NUMA_DISTANCE})
  endif()
  if(arg_NET)
    list(APPEND argv --net)
  endif()
  if(arg_MEMORY)
    list(APPEND argv --memory ${arg_MEMORY})
  endif()
  foreach(kernel_arg IN LISTS arg_APPEND)
    list(APPEND argv --append ${kernel_arg})
  endforeach()
  if(arg_CHECK_DMESG)
    list(APPEND argv --check-dmesg)
  endif()

  add_test(NAME ${arg_NAME} COMMAND ${argv} -- ${arg_COMMAND})
  math(EXPR ctest_timeout "${timeout} + 30")
  set_tests_properties(${arg_NAME} PROPERTIES
    LABELS "qemu;${arg_LABELS}" SKIP_RETURN_CODE 77 TIMEOUT ${ctest_timeout}
    PROCESSORS ${processors})
endfunction()
