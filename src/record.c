#include "config.h"
#include "record.h"
