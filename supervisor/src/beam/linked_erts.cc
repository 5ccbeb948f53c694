// Compiled into each /init link with that link's ERTS version (supervisor/link/).
#include "beam/linked_erts.h"

namespace microbeam {

const char kLinkedErtsVsn[] = MICROBEAM_ERTS_VSN;
const char kLinkedOtpVersion[] = MICROBEAM_OTP_VERSION;

}  // namespace microbeam
