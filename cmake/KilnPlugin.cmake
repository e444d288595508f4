# kiln_add_plugin(NAME SOURCES...)
# Builds a kiln phase plugin as a shared module named NAME.so in the plugin directory.
# The plugin sees only the SDK headers (kiln/...), nlohmann_json and Boost.DLL's alias macro.
# Symbols are hidden by default: only the descriptor and the factory alias are exported.
#
# The same file serves the source tree and the installed SDK (lib/cmake/kiln/, included by
# kilnConfig.cmake after it has imported kiln::plugin_sdk): third-party plugins are built by
# this very function, not a copy of it.
if(NOT TARGET kiln::plugin_sdk)
  # The source tree: the SDK target is made here (kiln_plugin_sdk, exported as kiln::plugin_sdk).
  add_library(kiln_plugin_sdk INTERFACE)
  target_include_directories(kiln_plugin_sdk INTERFACE
    $<BUILD_INTERFACE:${CMAKE_CURRENT_LIST_DIR}/../engine/include>
    $<INSTALL_INTERFACE:include>)
  target_link_libraries(kiln_plugin_sdk INTERFACE nlohmann_json::nlohmann_json Boost::headers)
  # Boost.DLL on std::filesystem: a plugin then needs no Boost library, only headers.
  target_compile_definitions(kiln_plugin_sdk INTERFACE BOOST_DLL_USE_STD_FS)
  target_compile_features(kiln_plugin_sdk INTERFACE cxx_std_20)
  # nlohmann_json is a large header every plugin source includes: precompile it per target
  # (in this tree only; a third party's build decides for itself).
  target_precompile_headers(kiln_plugin_sdk INTERFACE
    "$<BUILD_INTERFACE:<nlohmann/json.hpp$<ANGLE-R>>" "$<BUILD_INTERFACE:<string$<ANGLE-R>>"
    "$<BUILD_INTERFACE:<vector$<ANGLE-R>>")
  set_target_properties(kiln_plugin_sdk PROPERTIES EXPORT_NAME plugin_sdk)
  add_library(kiln::plugin_sdk ALIAS kiln_plugin_sdk)
endif()

# A plugin library (MODULE) named NAME in SUBDIR of the plugin dirs ("" for the dir itself),
# built and installed alike for plugins and their deferred implementations.
function(_kiln_plugin_module name subdir)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE kiln::plugin_sdk)
  if(NOT DEFINED KILN_PLUGIN_OUTPUT_DIR)
    set(KILN_PLUGIN_OUTPUT_DIR ${CMAKE_BINARY_DIR}/plugins)
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${KILN_PLUGIN_OUTPUT_DIR}${subdir}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
  # In the source tree: kiln's own plugin dir. Installed SDK: lib/kiln/plugins under the
  # plugin project's install prefix (the same prefix as kiln's puts it beside kiln's plugins).
  if(DEFINED KILN_PLUGIN_RELDIR)
    install(TARGETS ${name} LIBRARY DESTINATION ${KILN_PLUGIN_RELDIR}${subdir})
  endif()
endfunction()

function(kiln_add_plugin name)
  _kiln_plugin_module(${name} "" ${ARGN})
endfunction()

# kiln_add_plugin_implementation(PLUGIN NAME SOURCES...)
# Builds the heavy part of a plugin whose front is a kiln::DeferredPlugin (kiln/deferred_plugin.hpp)
# as PLUGIN.d/NAME.so beside PLUGIN.so: loaded on the plugin's first step, not when kiln starts.
function(kiln_add_plugin_implementation plugin name)
  _kiln_plugin_module(${name} "/${plugin}.d" ${ARGN})
  # Building the plugin builds its implementation: one is useless without the other.
  add_dependencies(${plugin} ${name})
endfunction()
