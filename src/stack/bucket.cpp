#include "common/log.h"
#include "common/s3/client.h"
#include "stack/provision.h"

namespace fp::stack {

Status ensure_bucket(Context& ctx) {
  s3::Client client(ctx.cfg.s3);
  FP_CHECK(client.create_bucket(), "create bucket " + ctx.cfg.s3.bucket);
  log::debug("stack", "bucket {} ready at {}", ctx.cfg.s3.bucket, ctx.cfg.s3.endpoint);
  return ok_status();
}

}  // namespace fp::stack
