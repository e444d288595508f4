# kiln_add_plugin_tests(NAME CORE_LIBRARY [EXTRA_SOURCES...])
# In-tree only: the test binary NAME_plugin_tests from the plugin's tests/*_test.cpp, linked
# with its core library and the engine's test support, registered with ctest under the
# label plugin-NAME. EXTRA_SOURCES are compiled in too (e.g. the plugin's entry file, for
# tests that construct the plugin class directly).
function(kiln_add_plugin_tests name core)
  if(NOT KILN_BUILD_TESTS)
    return()
  endif()
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/*_test.cpp)
  add_executable(${name}_plugin_tests ${sources} ${ARGN})
  target_link_libraries(${name}_plugin_tests PRIVATE ${core} kiln_test_support GTest::gtest_main)
  target_precompile_headers(${name}_plugin_tests PRIVATE <gtest/gtest.h> <nlohmann/json.hpp>)
  gtest_discover_tests(${name}_plugin_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS plugin-${name} TIMEOUT 600)
endfunction()
