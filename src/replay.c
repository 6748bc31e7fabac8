#include "config.h"
#include "replay.h"
