#include "support/free_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace runq::testing {

int pick_free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool start_on_free_port(int& port, std::string& error, const std::function<bool()>& launch,
                        int attempts) {
  for (int attempt = 0; attempt < attempts; ++attempt) {
    port = pick_free_port();
    if (port == 0) {
      error = "could not pick a free port on 127.0.0.1";
      continue;
    }
    if (launch()) return true;
  }
  return false;
}

}  // namespace runq::testing
