// The ceiling for the HTTP benchmarks: a bare cpp-httplib server with the same thread count
// and keep-alive settings as `runq serve`, answering "hello" to GET / and POST /. Prints
// "port N" and serves until SIGTERM/SIGINT.
#include <httplib.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace {
httplib::Server* g_server = nullptr;
void on_signal(int) {
  if (g_server) g_server->stop();
}
}  // namespace

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 8;
  httplib::Server server;
  g_server = &server;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_keep_alive_timeout(2);
  server.set_keep_alive_max_count(1000);
  server.set_tcp_nodelay(true);
  auto hello = [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"hello":"world"})", "application/json");
  };
  server.Get("/", hello);
  server.Post("/", hello);
  int port = server.bind_to_any_port("127.0.0.1");
  std::printf("port %d\n", port);
  std::fflush(stdout);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  server.listen_after_bind();
  return 0;
}
