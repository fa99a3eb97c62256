# Every public header compiles on its own, and twice in one translation unit (its
# include guard works). innet_header_units() generates one such unit per header;
# callers compile them into an object library that is part of the default build,
# so a header that is not self-contained fails the build, naming itself.
#
# innet_header_units(<out-var> ROOT <include-dir> EXTENSION <cpp|cu|bpf.cpp>
#                    [MATCHING <regex>] [EXCLUDE <regex>])
# covers the headers <include-dir>/innet/**.hpp whose path relative to
# <include-dir> matches MATCHING (default: all) and not EXCLUDE.
function(innet_header_units out)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "ROOT;EXTENSION;MATCHING;EXCLUDE" "")
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS RELATIVE ${arg_ROOT} ${arg_ROOT}/innet/*.hpp)
  set(units "")
  foreach(header IN LISTS headers)
    if((arg_MATCHING AND NOT header MATCHES "${arg_MATCHING}")
       OR (arg_EXCLUDE AND header MATCHES "${arg_EXCLUDE}"))
      continue()
    endif()
    string(MAKE_C_IDENTIFIER "${header}" id)
    set(unit ${CMAKE_CURRENT_BINARY_DIR}/header_units/${id}.${arg_EXTENSION})
    file(CONFIGURE OUTPUT ${unit} CONTENT "#include <${header}>\n#include <${header}>\n")
    list(APPEND units ${unit})
  endforeach()
  set(${out} ${units} PARENT_SCOPE)
endfunction()
