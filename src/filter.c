#include "config.h"
#include "filter.h"
