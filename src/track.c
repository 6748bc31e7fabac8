#include "config.h"
#include "track.h"
