#pragma once
#include <cstddef>

namespace edgeperf {

// Peak resident set size of this process (VmHWM), in bytes; 0 when unreadable.
std::size_t peak_rss_bytes();
// Current resident set size (VmRSS), in bytes; 0 when unreadable.
std::size_t current_rss_bytes();
// Resets the peak (VmHWM) to the current RSS (Linux >= 4.0); false when not permitted.
bool reset_peak_rss();

}  // namespace edgeperf
