// spdlog_peer.cpp — spdlog 1.10 (Debian libspdlog-dev, external fmt) behind
// the C ABI of peer.h: async (thread pool, one worker, default queue of 8192
// slots; overflow policy block or overrun_oldest) and sync file loggers.
// spdlog has no request context, so the request id is a thread-local passed
// as an argument; the values are formatted with fmt on the caller's thread
// (spdlog's design), the pattern (timestamp, static fields) on the worker.
// The static fields are literal text in the pattern: the cheapest spdlog can
// do, the way trail renders them once.
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <memory>
#include <string>

#include "peer.h"

namespace {

std::shared_ptr<spdlog::logger> g_logger;
std::shared_ptr<spdlog::details::thread_pool> g_pool;
std::string g_path;
thread_local char t_rid[40];

constexpr size_t kQueueSlots = 8192; // spdlog's default async queue size

enum class mode { sync, async_block, async_overrun };

int open_logger(const bench_peer_cfg *cfg, mode m) {
    try {
        g_path = cfg->path;
        auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(g_path, true);
        if (m == mode::sync) {
            g_logger = std::make_shared<spdlog::logger>("bench", sink);
        } else {
            g_pool = std::make_shared<spdlog::details::thread_pool>(kQueueSlots, 1);
            auto policy = m == mode::async_block ? spdlog::async_overflow_policy::block
                                                 : spdlog::async_overflow_policy::overrun_oldest;
            g_logger = std::make_shared<spdlog::async_logger>("bench", sink, g_pool, policy);
        }
        const bench_static_fields &s = bench_static;
        std::string pattern = std::string("{\"timestamp\":\"%Y-%m-%dT%H:%M:%S.%eZ\",\"service\":\"") +
                              s.service + "\",\"level\":\"%l\",\"machine_id\":\"" + s.machine_id +
                              "\",\"container_id\":\"" + s.container_id + "\",\"version\":\"" +
                              s.version + "\",\"region\":\"" + s.region + "\",\"pid\":%P,%v}";
        g_logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
            pattern, spdlog::pattern_time_type::utc, "\n"));
        g_logger->set_level(spdlog::level::info);
        return 0;
    } catch (const std::exception &) {
        return -EIO;
    }
}

inline void log_one(int64_t qty) {
    g_logger->info("\"message\":\"order placed\",\"request_id\":\"{}\",\"qty\":{},\"price\":{},"
                   "\"sku\":\"{}\"",
                   static_cast<const char *>(t_rid), qty, 9.99, "A-1");
}

void thread_start(int idx) { bench_make_request_id(idx, t_rid); }

void latency(uint32_t *samples, size_t n, const bench_pace *pace) {
    BENCH_LATENCY_LOOP(samples, n, pace, i, log_one(static_cast<int64_t>(i)));
}

void log_n(uint64_t first, uint64_t n) {
    for (uint64_t i = first; i < first + n; i++) log_one(static_cast<int64_t>(i));
}

// Dropping the logger and the pool joins the worker after it has written
// every queued message; the sink's destructor flushes and closes the file.
int close_logger(bench_peer_stats *st) {
    try {
        g_logger->flush();
        if (g_pool) st->dropped = g_pool->overrun_counter();
        g_logger.reset();
        g_pool.reset();
    } catch (const std::exception &) {
        return -EIO;
    }
    return bench_fsync_path(g_path.c_str());
}

int open_async_block(const bench_peer_cfg *c) { return open_logger(c, mode::async_block); }
int open_async_overrun(const bench_peer_cfg *c) { return open_logger(c, mode::async_overrun); }
int open_sync(const bench_peer_cfg *c) { return open_logger(c, mode::sync); }

} // namespace

extern "C" {
const bench_peer bench_peer_spdlog_async = {
    "spdlog-async", "async_logger, 1 worker, queue 8192, overflow_policy::block",
    open_async_block, thread_start, latency, log_n, close_logger};
const bench_peer bench_peer_spdlog_async_overrun = {
    "spdlog-async-overrun", "async_logger, 1 worker, queue 8192, overflow_policy::overrun_oldest",
    open_async_overrun, thread_start, latency, log_n, close_logger};
const bench_peer bench_peer_spdlog_sync = {
    "spdlog-sync", "logger + basic_file_sink_mt (mutex, stdio buffer)",
    open_sync, thread_start, latency, log_n, close_logger};
}
