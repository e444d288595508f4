// A shared library that is not a kiln plugin at all.
extern "C" __attribute__((visibility("default"))) int some_function() { return 42; }
