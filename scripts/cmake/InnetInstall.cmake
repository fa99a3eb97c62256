# cmake --install: headers, exported targets, innetConfig.cmake + version, innet.pc.
include(CMakePackageConfigHelpers)

set(INNET_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/innet)

install(DIRECTORY include/ runtimes/host/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(TARGETS innet innet_host EXPORT innetTargets)
install(EXPORT innetTargets NAMESPACE innet:: DESTINATION ${INNET_CMAKE_DIR})

# Each built runtime is an optional component with its own export set, so a
# consumer without, say, DPDK still loads the package:
#   find_package(innet CONFIG REQUIRED COMPONENTS rdma)
set(INNET_INSTALLED_RUNTIMES "")
foreach(runtime IN ITEMS dpdk ebpf rdma cuda)
  string(TOUPPER ${runtime} upper)
  if(INNET_HAVE_${upper})
    install(DIRECTORY runtimes/${runtime}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
            FILES_MATCHING PATTERN "*.hpp")
    install(TARGETS innet_${runtime} EXPORT innet_${runtime}Targets)
    install(EXPORT innet_${runtime}Targets NAMESPACE innet:: DESTINATION ${INNET_CMAKE_DIR})
    list(APPEND INNET_INSTALLED_RUNTIMES ${runtime})
  endif()
endforeach()

configure_package_config_file(scripts/cmake/innetConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/innetConfig.cmake
  INSTALL_DESTINATION ${INNET_CMAKE_DIR})
# The API is young: only the same minor version is promised to be compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/innetConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/innetConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/innetConfigVersion.cmake
        DESTINATION ${INNET_CMAKE_DIR})

configure_file(scripts/cmake/innet.pc.in ${CMAKE_CURRENT_BINARY_DIR}/innet.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/innet.pc
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig)
