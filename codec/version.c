/* cpns_version(): the run-time library's version, as nghttp2_version(). */
#include <cpns/common.h>
#include <cpns/version.h>

static const cpns_info info = {CPNS_INFO_AGE, CPNS_VERSION_NUM, CPNS_VERSION};

const cpns_info *cpns_version(int least_version) {
  return least_version > CPNS_VERSION_NUM ? NULL : &info;
}
