#include "config.h"
#include "sock.h"
