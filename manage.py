#!/usr/bin/env python
from pbqms.cli import main

if __name__ == "__main__":
    main()
