# Sidekiq driver: `ruby sidekiq_bench.rb w1|w1-batch|w2|w3 ...`, one JSON line on stdout.
#
# Tuning: two `sidekiq` processes (one per core; Ruby runs one thread at a time per process),
# each with 10 threads; retries off. Sidekiq keeps no results, so W2 here is "without results":
# the drain is timed from the first job taken to the queue becoming empty (the few no-op jobs
# still in flight then take microseconds).
require 'json'
require_relative 'sidekiq_jobs'

PROCS = 2
THREADS = 10

def emit(fields)
  puts JSON.generate({ system: 'sidekiq' }.merge(fields))
  $stdout.flush
end

def fail!(msg)
  warn "sidekiq_bench: #{msg}"
  exit 1
end

def redis(&blk) = Sidekiq.redis(&blk)

def start_workers
  log = ENV.fetch('BENCH_WORKER_LOG', '/dev/null')
  Array.new(PROCS) do
    spawn('sidekiq', '-r', File.join(__dir__, 'sidekiq_jobs.rb'), '-c', THREADS.to_s, '-q', 'bench',
          '-e', 'production', out: log, err: log, pgroup: true)
  end
end

def stop_workers(pids)
  pids.each { |pid| Process.kill('-KILL', pid) rescue nil }
  pids.each { |pid| Process.wait(pid) rescue nil }
end

def push_batches(n, batch = 1000)
  (0...n).step(batch) do |i|
    Sidekiq::Client.push_bulk('class' => NoopJob, 'args' => Array.new([batch, n - i].min) { [] })
  end
end

def timed
  t = mono_us
  yield
  (mono_us - t) / 1e6
end

def wait_until(timeout, what)
  deadline = mono_us + timeout * 1_000_000
  until yield
    fail!("timeout after #{timeout} s waiting for #{what}") if mono_us > deadline
    sleep 0.001
  end
end

def w2(n)
  push_batches(n)
  pids = start_workers
  first = last = nil
  begin
    wait_until(600, 'the queue to drain') do
      left = redis { |c| c.llen('queue:bench') }
      first ||= mono_us if left < n
      last = mono_us if left.zero?
      left.zero?
    end
  ensure
    stop_workers(pids)
  end
  secs = (last - first) / 1e6
  emit(workload: 'w2', tasks: n, seconds: secs, tasks_per_s: n / secs, procs: PROCS, threads: THREADS,
       results: false)
end

def w3(rate, seconds)
  redis { |c| c.del('bench:lat') }
  pids = start_workers
  begin
    NoopJob.perform_async
    wait_until(60, 'the workers to start') { redis { |c| c.llen('queue:bench') }.zero? }
    sleep 0.5
    n = (rate * seconds).to_i
    t0 = mono_us
    n.times do |i|
      wait = (t0 + i * 1e6 / rate - mono_us) / 1e6
      sleep wait if wait.positive?
      StampJob.perform_async(mono_us)
    end
    wait_until(60, 'latency samples') { redis { |c| c.llen('bench:lat') } >= n }
    v = redis { |c| c.lrange('bench:lat', 0, -1) }.map(&:to_i).sort
  ensure
    stop_workers(pids)
  end
  q = ->(p) { v[[[((p * v.size).ceil - 1), 0].max, v.size - 1].min] / 1000.0 }
  emit(workload: 'w3', tasks: n, rate: rate, seconds: seconds, count: v.size, p50_ms: q.(0.5),
       p99_ms: q.(0.99), p999_ms: q.(0.999), max_ms: v.last / 1000.0)
end

cmd, a, b = ARGV
case cmd
when 'w1'
  n = a.to_i
  s = timed { n.times { NoopJob.perform_async } }
  emit(workload: 'w1', tasks: n, seconds: s, tasks_per_s: n / s)
when 'w1-batch'
  n = a.to_i
  s = timed { push_batches(n) }
  emit(workload: 'w1-batch', tasks: n, seconds: s, tasks_per_s: n / s)
when 'w2' then w2(a.to_i)
when 'w3' then w3(a.to_f, b.to_f)
else fail!('usage: ruby sidekiq_bench.rb w1 N | w1-batch N | w2 N | w3 RATE SECONDS')
end
