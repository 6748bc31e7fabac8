#include "config.h"
#include "view.h"
