// `migrate`: creates or upgrades the schema of the store given by --store / RUNQ_STORE.
#include <cstdio>

#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "runq/app.hpp"
#include "store/backend.hpp"
#ifdef RUNQ_WITH_POSTGRES
#include "runq/postgres.hpp"
#endif

namespace runq::internal {

int run_migrate_cmd(App& app, const MigrateArgs&) {
  constexpr std::string_view kCmd = "migrate";
  const std::string& url = app.store_url();
  const StoreBackendInfo* backend = find_store_backend(url);
#ifdef RUNQ_WITH_POSTGRES
  if (backend != nullptr && backend->scheme == "postgres") {
    Result<postgres::MigrationReport> r = postgres::migrate(url);
    if (!r.ok()) return fail(kCmd, r.status());
    if (r->from == r->to) {
      std::printf("schema '%s' is up to date (version %d)\n", r->schema.c_str(), r->to);
    } else {
      std::printf("schema '%s' migrated from version %d to %d\n", r->schema.c_str(), r->from,
                  r->to);
    }
    return kExitOk;
  }
#endif
  (void)backend;
  // Other stores create or check their schema when opened.
  Result<std::shared_ptr<Store>> store = open_app_store(app);
  if (!store.ok()) return fail(kCmd, store.status());
  std::printf("store is ready (it creates its schema when opened; nothing to migrate)\n");
  return kExitOk;
}

}  // namespace runq::internal
