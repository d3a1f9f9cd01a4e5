// Free loopback ports for the servers tests start (never a fixed port).
#pragma once

#include <functional>
#include <string>

namespace runq::testing {

// A port on 127.0.0.1 nothing listens on right now (the kernel's pick for a bound socket,
// then closed); 0 if none could be had. Another process may take it before the caller binds
// it: start_on_free_port retries.
int pick_free_port();

// Picks a free port into `port` and calls `launch` until it returns true, at most `attempts`
// times. False when no attempt started (`error` says why when no port could be had; `launch`
// sets it otherwise).
bool start_on_free_port(int& port, std::string& error, const std::function<bool()>& launch,
                        int attempts = 3);

}  // namespace runq::testing
