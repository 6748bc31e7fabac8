#include "config.h"
#include "poll.h"
