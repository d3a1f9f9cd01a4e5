// The dashboard's static files, embedded at build time (cmake/EmbedFiles.cmake) from
// src/http/dashboard/, served with their content type, an ETag (clients revalidate and get
// 304 when nothing changed) and a Content-Security-Policy that allows only this origin's
// scripts and styles: no inline script, no inline style attribute, no other host.
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "http/json_io.hpp"
#include "http/routes.hpp"
#include "runq_embedded_dashboard.hpp"

namespace runq::internal {
namespace {

struct Asset {
  std::string_view name;  // under /assets/ ("index.html" is also served at "/")
  std::string_view content_type;
  std::string_view body;
};

constexpr std::string_view kJs = "text/javascript; charset=utf-8";

constexpr std::array kAssets{
    Asset{"index.html", "text/html; charset=utf-8", embedded::dashboard_index},
    Asset{"style.css", "text/css; charset=utf-8", embedded::dashboard_style},
    Asset{"favicon.svg", "image/svg+xml", embedded::dashboard_favicon},
    Asset{"main.js", kJs, embedded::dashboard_main},
    Asset{"api.js", kJs, embedded::dashboard_api},
    Asset{"dom.js", kJs, embedded::dashboard_dom},
    Asset{"charts.js", kJs, embedded::dashboard_charts},
    Asset{"overview.js", kJs, embedded::dashboard_overview},
    Asset{"tasks.js", kJs, embedded::dashboard_tasks},
    Asset{"task_view.js", kJs, embedded::dashboard_task_view},
    Asset{"workers.js", kJs, embedded::dashboard_workers},
    Asset{"schedules.js", kJs, embedded::dashboard_schedules},
    Asset{"dead.js", kJs, embedded::dashboard_dead},
    Asset{"enqueue.js", kJs, embedded::dashboard_enqueue},
};

constexpr std::string_view kPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// A strong validator: FNV-1a of the content, quoted as HTTP wants it.
std::string etag_of(std::string_view body) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : body) h = (h ^ c) * 1099511628211ULL;
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

HttpResponse serve(const Asset& a) {
  HttpResponse r;
  r.content_type = std::string(a.content_type);
  r.body = std::string(a.body);
  r.headers = {{"Cache-Control", "no-cache"},  // revalidate every time: an upgrade shows at once
               {"ETag", etag_of(a.body)},
               {"Content-Security-Policy", std::string(kPolicy)},
               {"Referrer-Policy", "no-referrer"},
               {"X-Frame-Options", "DENY"}};
  return r;
}

}  // namespace

std::vector<Route> dashboard_routes() {
  return {
      {"GET", "/", Scope::kPublic, [](const auto&) { return serve(kAssets[0]); }},
      {"GET", "/assets/{file}", Scope::kPublic,
       [](const HttpRequest& req) {
         const std::string& file = req.params.at("file");
         for (const Asset& a : kAssets) {
           if (a.name == file) return serve(a);
         }
         return error_response(404, "not_found", "no dashboard file '" + file + "'");
       }},
  };
}

}  // namespace runq::internal
