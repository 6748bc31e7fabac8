#include "config.h"
#include "sig.h"
