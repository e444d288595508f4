# kiln_add_plugin(NAME SOURCES...)
# Builds a kiln phase plugin as a shared module named NAME.so in the plugin directory.
# The plugin sees only the SDK headers (kiln/...), nlohmann_json and Boost.DLL's alias macro.
# Symbols are hidden by default: only the descriptor and the factory alias are exported.
if(NOT TARGET kiln_plugin_sdk)
  add_library(kiln_plugin_sdk INTERFACE)
  if(DEFINED KILN_SDK_INCLUDE_DIR)
    target_include_directories(kiln_plugin_sdk INTERFACE ${KILN_SDK_INCLUDE_DIR})
  else()
    target_include_directories(kiln_plugin_sdk INTERFACE ${CMAKE_CURRENT_LIST_DIR}/../engine/include)
  endif()
  target_link_libraries(kiln_plugin_sdk INTERFACE nlohmann_json::nlohmann_json Boost::headers)
  # Boost.DLL on std::filesystem: a plugin then needs no Boost library, only headers.
  target_compile_definitions(kiln_plugin_sdk INTERFACE BOOST_DLL_USE_STD_FS)
  target_compile_features(kiln_plugin_sdk INTERFACE cxx_std_20)
  # nlohmann_json is a large header every plugin source includes: precompile it per target.
  target_precompile_headers(kiln_plugin_sdk INTERFACE <nlohmann/json.hpp> <string> <vector>)
endif()

function(kiln_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE kiln_plugin_sdk)
  if(NOT DEFINED KILN_PLUGIN_OUTPUT_DIR)
    set(KILN_PLUGIN_OUTPUT_DIR ${CMAKE_BINARY_DIR}/plugins)
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${KILN_PLUGIN_OUTPUT_DIR}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
  if(DEFINED KILN_PLUGIN_RELDIR)
    install(TARGETS ${name} LIBRARY DESTINATION ${KILN_PLUGIN_RELDIR})
  endif()
endfunction()

# kiln_add_plugin_implementation(PLUGIN NAME SOURCES...)
# Builds the heavy part of a plugin whose front is a kiln::DeferredPlugin (kiln/deferred_plugin.hpp)
# as PLUGIN.d/NAME.so beside PLUGIN.so: loaded on the plugin's first step, not when kiln starts.
function(kiln_add_plugin_implementation plugin name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE kiln_plugin_sdk)
  if(NOT DEFINED KILN_PLUGIN_OUTPUT_DIR)
    set(KILN_PLUGIN_OUTPUT_DIR ${CMAKE_BINARY_DIR}/plugins)
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${KILN_PLUGIN_OUTPUT_DIR}/${plugin}.d
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
  # Building the plugin builds its implementation: one is useless without the other.
  add_dependencies(${plugin} ${name})
  if(DEFINED KILN_PLUGIN_RELDIR)
    install(TARGETS ${name} LIBRARY DESTINATION ${KILN_PLUGIN_RELDIR}/${plugin}.d)
  endif()
endfunction()
