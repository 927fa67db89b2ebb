#pragma once
// Turns SIGINT and SIGTERM into a stop flag for long-running commands (log, dashboard)
// without a signal handler or global state: the signals are blocked in every thread
// and one waiter thread takes them with sigwaitinfo. `ignored_signal` is set to SIG_IGN
// meanwhile (SIGXFSZ so a file-size limit becomes an error, SIGPIPE for sockets).
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <ctime>
#include <thread>

namespace edgeperf::cli {

class StopOnSignals {
 public:
  StopOnSignals(std::atomic<bool>& stop, int ignored_signal) : stop_(stop), ignored_signal_(ignored_signal) {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, &previous_mask_);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigaction(ignored_signal_, &ignore, &previous_action_);
    waiter_ = std::thread([this] { wait_for_signals(); });
  }
  ~StopOnSignals() {
    finished_.store(true);
    pthread_kill(waiter_.native_handle(), SIGTERM);  // blocked: it only ends sigwaitinfo
    waiter_.join();
    const timespec no_wait{};
    while (sigtimedwait(&signals_, nullptr, &no_wait) > 0) stop_.store(true);
    sigaction(ignored_signal_, &previous_action_, nullptr);
    pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
  }
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  void wait_for_signals() {
    while (!finished_.load()) {
      if (sigwaitinfo(&signals_, nullptr) > 0 && !finished_.load()) stop_.store(true);
    }
  }

  std::atomic<bool>& stop_;
  int ignored_signal_;
  std::atomic<bool> finished_{false};
  sigset_t signals_{};
  sigset_t previous_mask_{};
  struct sigaction previous_action_ {};
  std::thread waiter_;
};

}  // namespace edgeperf::cli
