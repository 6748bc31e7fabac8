#include "config.h"
#include "exact.h"
