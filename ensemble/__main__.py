import sys

from ensemble._entry import main

sys.exit(main())
