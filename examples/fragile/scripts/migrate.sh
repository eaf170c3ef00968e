#!/bin/bash
# Runs database migrations for the fragile demo (never made executable, so the deploy pipeline cannot run it).
echo "migrating"
