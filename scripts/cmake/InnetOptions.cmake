# Runtime options: INNET_WITH_<X> is AUTO (build the runtime when its dependency is
# found), ON (the dependency is required: configuring fails with the package to
# install) or OFF. The test command sets them all ON so nothing is silently skipped.

set_property(GLOBAL PROPERTY INNET_RUNTIMES_ENABLED host)
set_property(GLOBAL PROPERTY INNET_RUNTIMES_SKIPPED "")

# innet_runtime_option(<NAME> <description>) declares INNET_WITH_<NAME>.
macro(innet_runtime_option name description)
  set(INNET_WITH_${name} AUTO CACHE STRING "${description}: AUTO, ON or OFF")
  set_property(CACHE INNET_WITH_${name} PROPERTY STRINGS AUTO ON OFF)
  string(TOUPPER "${INNET_WITH_${name}}" _innet_mode)
  if(NOT _innet_mode MATCHES "^(AUTO|ON|OFF)$")
    message(FATAL_ERROR "INNET_WITH_${name}='${INNET_WITH_${name}}': expected AUTO, ON or OFF")
  endif()
  set(INNET_WITH_${name}_MODE ${_innet_mode})
endmacro()

# innet_runtime_resolve(<NAME> <found-bool> <what is missing and how to install it>)
# sets INNET_HAVE_<NAME> (visible in every directory) and fails when the option is ON
# but the dependency is absent.
function(innet_runtime_resolve name found missing)
  string(TOLOWER "${name}" lower)
  set(have FALSE)
  if(INNET_WITH_${name}_MODE STREQUAL "OFF")
    set_property(GLOBAL APPEND PROPERTY INNET_RUNTIMES_SKIPPED "${lower} (INNET_WITH_${name}=OFF)")
  elseif(found)
    set(have TRUE)
    set_property(GLOBAL APPEND PROPERTY INNET_RUNTIMES_ENABLED ${lower})
  elseif(INNET_WITH_${name}_MODE STREQUAL "ON")
    message(FATAL_ERROR "INNET_WITH_${name}=ON but ${missing}. "
                        "Run scripts/install-deps, or configure with -DINNET_WITH_${name}=OFF.")
  else()
    set_property(GLOBAL APPEND PROPERTY INNET_RUNTIMES_SKIPPED "${lower} (${missing})")
  endif()
  set(INNET_HAVE_${name} ${have} CACHE INTERNAL "innet runtime ${lower} is built")
endfunction()

function(innet_print_summary)
  get_property(enabled GLOBAL PROPERTY INNET_RUNTIMES_ENABLED)
  get_property(skipped GLOBAL PROPERTY INNET_RUNTIMES_SKIPPED)
  string(REPLACE ";" ", " enabled "${enabled}")
  message(STATUS "innet ${PROJECT_VERSION}: runtimes built: ${enabled}")
  foreach(s IN LISTS skipped)
    message(STATUS "innet: runtime not built: ${s}")
  endforeach()
endfunction()

# innet_add_runtime_subdirectories(): in a folder that mirrors runtimes/ (tests,
# examples), adds <runtime>/ for each runtime that is built and has a folder here.
function(innet_add_runtime_subdirectories)
  foreach(runtime IN ITEMS host dpdk ebpf rdma cuda)
    string(TOUPPER ${runtime} upper)
    if((runtime STREQUAL "host" OR INNET_HAVE_${upper})
       AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${runtime}/CMakeLists.txt)
      add_subdirectory(${runtime})
    endif()
  endforeach()
endfunction()

# innet_runtime_target(<runtime> <libraries...>): the INTERFACE target
# innet::<runtime> over <this folder>/include, installable, linking the libraries.
function(innet_runtime_target runtime)
  add_library(innet_${runtime} INTERFACE)
  add_library(innet::${runtime} ALIAS innet_${runtime})
  set_target_properties(innet_${runtime} PROPERTIES EXPORT_NAME ${runtime})
  target_include_directories(innet_${runtime} INTERFACE
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(innet_${runtime} INTERFACE ${ARGN})
endfunction()

# innet_example_per_file(<runtime> <extension>): in examples/<runtime>/, every
# <name>.<extension> becomes the program <runtime>_<name>, linked with innet::<runtime>.
function(innet_example_per_file runtime extension)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.${extension})
  foreach(source IN LISTS sources)
    get_filename_component(name ${source} NAME_WE)
    add_executable(${runtime}_${name} ${source})
    target_link_libraries(${runtime}_${name} PRIVATE innet::${runtime} innet_warnings)
  endforeach()
endfunction()
