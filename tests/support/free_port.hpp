// A TCP port that was free on 127.0.0.1 a moment ago (bound and released; good enough for
// tests). One definition for every server the tests start.
#pragma once

namespace kiln::testing {

int FreeLoopbackPort();

}  // namespace kiln::testing
