#include "config.h"
#include "procmap.h"
