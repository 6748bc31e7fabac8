#include "config.h"
#include "scenario.h"
