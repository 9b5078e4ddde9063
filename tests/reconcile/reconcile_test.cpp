#include "reconcile/reconcile.hpp"

#include <gtest/gtest.h>
