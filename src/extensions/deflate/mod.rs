//! permessage-deflate (RFC 7692). (stub: being written)
