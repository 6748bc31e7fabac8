#include "config.h"
#include "loop.h"
