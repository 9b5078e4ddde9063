#include <gtest/gtest.h>

#include "reconcile/reconcile.hpp"
