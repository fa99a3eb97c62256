# innet_add_bpf_object(): compile restricted C or C++20 to one BPF ELF object.
#
#   innet_add_bpf_object(<name>
#     SOURCES <file.c|file.cpp>...   # one or more; several are linked with bpftool
#     [INCLUDES <dir>...]            # extra -I directories
#     [DEFINITIONS <NAME[=value]>...]# extra -D definitions
#     [OPTIONS <flag>...]            # extra clang flags, e.g. -mcpu=v3
#     [SKELETON])                    # also generate <name>.skel.h (bpftool gen skeleton)
#
# Produces <build dir>/<name>.bpf.o and a custom target <name> (part of ALL) that
# builds it. Consumers find the path in any of these:
#   - an INTERFACE library <name>_object: linking it defines the macro
#     <NAME>_OBJECT (the name upper-cased) as the path in quotes, e.g.
#     INNET_EBPF_DIGEST_OBJECT for innet_ebpf_digest, and builds the object first;
#   - the target property INNET_BPF_OBJECT, usable anywhere in the tree as
#     $<TARGET_PROPERTY:<name>,INNET_BPF_OBJECT> (add_dependencies() on <name>);
#   - the variable <name>_OBJECT, set in the calling directory's scope.
# With SKELETON, an INTERFACE library <name>_skeleton puts <name>.skel.h on the
# include path (and builds it first); skeletons embed the object, so they need no path.
#
# Flags. Every source gets -O2 -g -target bpf (-g: libbpf needs the BTF for maps and
# CO-RE, and the verifier log then quotes source lines) plus the multiarch include
# directory, because <linux/types.h> includes <asm/types.h>, which Debian keeps in
# /usr/include/<triplet>. C++ sources also get -std=c++20 -ffreestanding and neither
# exceptions nor RTTI, plus innet's include/ and the eBPF runtime's include/, so that
# the freestanding innet headers (xxh3, hash_family, result) compile into the object.
# -fno-autolink keeps clang's C++ front end from emitting an empty .linker-options
# section, which libbpf reports as an unknown section on every open.
#
# -mllvm -pre-RA-sched=source schedules instructions in source order. LLVM's default
# for BPF schedules a basic block for instruction-level parallelism, hoisting loads
# to its top; in a fully unrolled program (the only kind rte_bpf accepts: it rejects
# every backward jump) that keeps dozens of values live across BPF's ten registers,
# and the spills exceed the 512-byte stack, which clang reports as a hard error.
# Nothing is lost: the kernel's JIT and rte_bpf's translate instruction by
# instruction and the CPU reorders anyway. innet's digest program compiles to 890
# instructions and no stack slot this way, and not at all without it.
#
# Header dependencies come from clang's depfile, so editing an included header
# rebuilds the object.

get_filename_component(INNET_BPF_RUNTIME_INCLUDE ${CMAKE_CURRENT_LIST_DIR}/../include ABSOLUTE)
set(INNET_BPF_RUNTIME_INCLUDE ${INNET_BPF_RUNTIME_INCLUDE}
    CACHE INTERNAL "the eBPF runtime's headers, for BPF programs (innet/ebpf/bpf/*.hpp)")

function(innet_add_bpf_object name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "SKELETON" "" "SOURCES;INCLUDES;DEFINITIONS;OPTIONS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "innet_add_bpf_object(${name}): unknown arguments: "
                        "${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "innet_add_bpf_object(${name}): SOURCES is required")
  endif()
  if(NOT INNET_BPF_CLANG)
    message(FATAL_ERROR "innet_add_bpf_object(${name}): no clang for -target bpf "
                        "(Debian: clang); the eBPF runtime should not have been enabled")
  endif()
  list(LENGTH arg_SOURCES source_count)
  if(source_count GREATER 1 OR arg_SKELETON)
    find_program(INNET_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin
                 DOC "bpftool, for linking BPF objects and generating skeletons")
    if(NOT INNET_BPFTOOL)
      message(FATAL_ERROR "innet_add_bpf_object(${name}): linking several sources or "
                          "generating a skeleton needs bpftool (Debian: bpftool)")
    endif()
  endif()

  set(common -O2 -g -target bpf -mllvm -pre-RA-sched=source -Wall -Wextra)
  if(INNET_WERROR)
    list(APPEND common -Werror)
  endif()
  if(CMAKE_LIBRARY_ARCHITECTURE AND EXISTS /usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
    list(APPEND common -idirafter /usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
  endif()
  foreach(dir IN LISTS arg_INCLUDES)
    get_filename_component(dir ${dir} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    list(APPEND common -I${dir})
  endforeach()
  foreach(definition IN LISTS arg_DEFINITIONS)
    list(APPEND common -D${definition})
  endforeach()
  list(APPEND common ${arg_OPTIONS})
  set(cxx_only -std=c++20 -ffreestanding -fno-exceptions -fno-rtti -fno-autolink
      -I${PROJECT_SOURCE_DIR}/include -I${INNET_BPF_RUNTIME_INCLUDE})

  set(work_dir ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.dir)
  set(output ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o)
  set(objects "")
  foreach(source IN LISTS arg_SOURCES)
    get_filename_component(source ${source} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    get_filename_component(stem ${source} NAME)
    get_filename_component(extension ${source} LAST_EXT)
    if(extension STREQUAL ".c")
      set(flags ${common})
    elseif(extension MATCHES "^\\.(cpp|cc|cxx)$")
      set(flags ${common} ${cxx_only})
    else()
      message(FATAL_ERROR "innet_add_bpf_object(${name}): ${source} is neither C (.c) "
                          "nor C++ (.cpp, .cc, .cxx)")
    endif()
    if(source_count EQUAL 1)
      set(object ${output})
    else()
      set(object ${work_dir}/${stem}.o)
    endif()
    add_custom_command(OUTPUT ${object}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${work_dir}
      COMMAND ${INNET_BPF_CLANG} ${flags} -MD -MF ${work_dir}/${stem}.d -c ${source} -o ${object}
      DEPENDS ${source}
      DEPFILE ${work_dir}/${stem}.d
      COMMENT "Compiling BPF object ${name} from ${stem}"
      COMMAND_EXPAND_LISTS VERBATIM)
    list(APPEND objects ${object})
  endforeach()
  if(source_count GREATER 1)
    # bpftool's static linker merges sections, BTF and relocations the way libbpf
    # expects (ld.lld does not know BPF's .BTF.ext).
    add_custom_command(OUTPUT ${output}
      COMMAND ${INNET_BPFTOOL} gen object ${output} ${objects}
      DEPENDS ${objects}
      COMMENT "Linking BPF object ${name}"
      VERBATIM)
  endif()

  set(outputs ${output})
  if(arg_SKELETON)
    set(skeleton_dir ${CMAKE_CURRENT_BINARY_DIR}/${name}.skel)
    set(skeleton ${skeleton_dir}/${name}.skel.h)
    add_custom_command(OUTPUT ${skeleton}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${skeleton_dir}
      COMMAND sh -c "\"$0\" gen skeleton \"$1\" name \"$2\" > \"$3.tmp\" && mv \"$3.tmp\" \"$3\""
              ${INNET_BPFTOOL} ${output} ${name} ${skeleton}
      DEPENDS ${output}
      COMMENT "Generating libbpf skeleton ${name}.skel.h"
      VERBATIM)
    list(APPEND outputs ${skeleton})
  endif()

  add_custom_target(${name} ALL DEPENDS ${outputs})
  set_target_properties(${name} PROPERTIES INNET_BPF_OBJECT ${output})
  set(${name}_OBJECT ${output} PARENT_SCOPE)

  string(TOUPPER "${name}_OBJECT" macro)
  string(MAKE_C_IDENTIFIER "${macro}" macro)
  add_library(${name}_object INTERFACE)
  target_compile_definitions(${name}_object INTERFACE ${macro}="${output}")
  # Followed transitively: whatever links the library builds after the object.
  add_dependencies(${name}_object ${name})

  if(arg_SKELETON)
    add_library(${name}_skeleton INTERFACE)
    target_include_directories(${name}_skeleton INTERFACE ${skeleton_dir})
    # innet::ebpf rather than PkgConfig::LIBBPF: imported targets are visible only in
    # the directory that found them, and skeletons are built anywhere in the tree.
    target_link_libraries(${name}_skeleton INTERFACE innet::ebpf)
    add_dependencies(${name}_skeleton ${name})
  endif()
endfunction()
