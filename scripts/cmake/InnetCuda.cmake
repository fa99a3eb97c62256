# CUDA must be enabled in the top-level directory, before any target uses it.
# Sets INNET_CUDA_FOUND. The GPU itself is optional: code is compiled for the
# architectures below and tests that need a device skip when none is present.
innet_runtime_option(CUDA "CUDA runtime (CUDA Toolkit at /usr/local/cuda)")
set(INNET_CUDA_FOUND FALSE)
if(NOT INNET_WITH_CUDA_MODE STREQUAL "OFF")
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX}
     AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)  # A100, H100
    endif()
    # nvcc always compiles its host side with g++, whichever C++ compiler the
    # project uses.
    enable_language(CUDA)
    # CMake 3.25 does not know nvcc's C++20 flag.
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION -std=c++20)
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION -std=c++20)
    set(CMAKE_CUDA_STANDARD 20)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(CMAKE_CUDA_EXTENSIONS OFF)
    # One CUDA runtime per process: the shared one CUDA::cudart links, not nvcc's static
    # default beside it.
    set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
    find_package(CUDAToolkit REQUIRED)
    set(INNET_CUDA_FOUND TRUE)
  endif()
endif()
