"""Screenshot of one console page for the lab: shot.py URL TEXT OUT.png
Run with /usr/bin/python3 (Debian python3-selenium). Waits (20 s) until the page shows TEXT, then saves a 1400x1000 headless-Chromium screenshot."""
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

url, text, out = sys.argv[1], sys.argv[2], sys.argv[3]
o = Options()
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"]:
    o.add_argument(a)
o.binary_location = "/usr/bin/chromium"
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
try:
    d.set_page_load_timeout(20)
    d.get(url)
    end = time.time() + 20
    while time.time() < end:
        try:
            if text.lower() in d.find_element(By.ID, "page").text.lower():
                break
        except Exception:
            pass
        time.sleep(0.3)
    else:
        sys.stderr.write("shot: %s never showed %r\n" % (url, text))
        sys.exit(1)
    time.sleep(1.0)  # let the charts draw
    d.save_screenshot(out)
    print("saved", out)
finally:
    d.quit()
