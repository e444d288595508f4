// Loopback ports for the servers the tests start: a free one to give a server, and whether
// a server listens on one yet. One definition for every server.
#pragma once

namespace kiln::testing {

/// A TCP port that was free on 127.0.0.1 a moment ago (bound and released; good enough
/// for tests).
int FreeLoopbackPort();

/// Whether something accepts TCP connections on 127.0.0.1:`port` now.
bool LoopbackPortAccepts(int port);

}  // namespace kiln::testing
