# What `cmake --install` adds beyond the targets' own rules, and the Debian package.
#
#   bin/kiln                         the engine (engine/CMakeLists.txt)
#   lib/kiln/plugins/*.so            the phase plugins (kiln_add_plugin)
#   lib/kiln/plugins/NAME.d/*.so     a deferred plugin's implementation (kiln_add_plugin_implementation)
#   share/kiln/pipelines/            the built-in pipelines (default.lua, cache-gc.lua)
#   include/kiln/                    the plugin SDK headers (all of engine/include/kiln)
#   lib/cmake/kiln/                  find_package(kiln): kiln::plugin_sdk, kiln_add_plugin()
#   lib/systemd/system/kiln-worker.service
#   share/doc/kiln/examples/         config.yaml to start /etc/kiln/config.yaml from
include(CMakePackageConfigHelpers)

set(KILN_CMAKE_PACKAGE_DIR lib/cmake/kiln)
file(STRINGS ${PROJECT_SOURCE_DIR}/engine/include/kiln/plugin.hpp KILN_ABI_LINE
     REGEX "kPluginAbiVersion = [0-9]+;")
string(REGEX REPLACE ".*kPluginAbiVersion = ([0-9]+);.*" "\\1" KILN_PLUGIN_ABI_VERSION "${KILN_ABI_LINE}")

install(TARGETS kiln_plugin_sdk EXPORT kilnTargets)
install(EXPORT kilnTargets NAMESPACE kiln:: DESTINATION ${KILN_CMAKE_PACKAGE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/kilnConfig.cmake.in
  ${CMAKE_BINARY_DIR}/cmake/kilnConfig.cmake INSTALL_DESTINATION ${KILN_CMAKE_PACKAGE_DIR})
# 0.x: a new minor version may change the SDK, so only the same minor version matches.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cmake/kilnConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cmake/kilnConfig.cmake ${CMAKE_BINARY_DIR}/cmake/kilnConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/KilnPlugin.cmake DESTINATION ${KILN_CMAKE_PACKAGE_DIR})

install(FILES ${PROJECT_SOURCE_DIR}/deploy/kiln-worker.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/examples/config.yaml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# cpack -G DEB (from the build dir): one package, kiln_<version>_<arch>.deb, installing
# under /usr. dpkg-shlibdeps works out the Debian runtime libraries the binary and plugins
# link (libnats, libgit2, liblua5.4, libyaml-cpp, libspdlog, libssl, ...); the tools the
# plugins run are added by hand.
set(CPACK_PACKAGE_NAME kiln)
set(CPACK_PACKAGE_VENDOR "kiln")
set(CPACK_PACKAGE_CONTACT "kiln maintainers <kiln@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Build engine for container images: NATS JetStream jobs, Lua pipelines, plugins")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# buildah builds the images and git fetches for the git plugin's CLI path; nats-server runs
# elsewhere in a real deployment, so it is only suggested.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "buildah, git, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "nodejs, npm")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nats-server")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "kiln takes build jobs from NATS JetStream, runs the repository's sandboxed Lua pipeline,
whose steps are plugins (git, nx, buildah, cache), and publishes each job's status.
Includes the plugin SDK (headers and find_package(kiln)) for third-party plugins.")
include(CPack)
