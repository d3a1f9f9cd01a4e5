# The Sidekiq side of the comparison: the job classes, loaded by `sidekiq -r` and the driver.
require 'sidekiq'

# The Debian redis gem warns on every call Sidekiq 6.4 makes; the warnings are not ours to fix.
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)
Redis.sadd_returns_boolean = false if Redis.respond_to?(:sadd_returns_boolean=)

BENCH_REDIS = { url: "redis://127.0.0.1:#{ENV.fetch('BENCH_REDIS_PORT')}/0" }.freeze
Sidekiq.configure_client { |c| c.redis = BENCH_REDIS.merge(size: 2) }
Sidekiq.configure_server { |c| c.redis = BENCH_REDIS }

def mono_us
  Process.clock_gettime(Process::CLOCK_MONOTONIC, :microsecond)  # the clock runq-bench uses
end

class NoopJob
  include Sidekiq::Worker
  sidekiq_options queue: 'bench', retry: false

  def perform; end
end

class StampJob
  include Sidekiq::Worker
  sidekiq_options queue: 'bench', retry: false

  def perform(enqueued_us)
    latency = mono_us - enqueued_us
    Sidekiq.redis { |c| c.rpush('bench:lat', latency) }
  end
end
